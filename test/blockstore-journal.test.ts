/**
 * The filesystem blockstore syncs by checkpoints, not per block (src/store/blockstore.ts):
 * blocks written since the last checkpoint are listed in a journal, and opening the store
 * after a crash hashes those and deletes the ones whose bytes do not match their CID (what a
 * machine crash can leave of an unsynced write). A checkpoint empties the journal.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { CID } from 'multiformats/cid'
import { FsBlockstore } from '../src/store/blockstore.ts'
import { waitFor } from '../src/testing/wait.ts'
import { blockFile, randomBlock } from './helpers/raw-blocks.ts'

describe('blockstore journal', () => {
  const dirs: string[] = []
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })
  const fresh = async () => {
    const d = await mkdtemp(join(tmpdir(), 'lateral-journal-'))
    dirs.push(d)
    return d
  }

  it('re-checks the blocks written since the last checkpoint and deletes those that do not match', async () => {
    const dir = await fresh()
    const store = new FsBlockstore(dir)
    await store.open()
    const good = await randomBlock()
    const garbled = await randomBlock()
    const torn = await randomBlock()
    const parted = await randomBlock()
    await store.put(good.cid, good.bytes)
    await store.put(garbled.cid, garbled.bytes)
    await store.put(torn.cid, torn.bytes)
    // Written as the parts it arrived in.
    await store.put(parted.cid, [parted.bytes.subarray(0, 1000), parted.bytes.subarray(1000)])
    assert.deepEqual(await store.getBytes(parted.cid), parted.bytes)
    const journal = await readFile(join(dir, '.unsynced'), 'utf8')
    for (const b of [good, garbled, torn, parted]) assert.ok(journal.includes(b.cid.toString()))
    // A machine crash before the checkpoint: what was not synced may hold anything.
    await writeFile(blockFile(dir, garbled.cid), randomBytes(garbled.bytes.length))
    await truncate(blockFile(dir, torn.cid), 100)

    const reopened = new FsBlockstore(dir)
    assert.deepEqual(await reopened.open(), { checked: 4, removed: 2 })
    assert.equal(await reopened.has(good.cid), true)
    assert.equal(await reopened.has(parted.cid), true)
    assert.equal(await reopened.has(garbled.cid), false)
    assert.equal(await reopened.has(torn.cid), false)
    assert.ok(!(await readdir(dir)).includes('.unsynced'), 'the journal is gone once checked')
  })

  it('lists every stored block while the journal holds entries (the journal is not a shard folder)', async () => {
    const dir = await fresh()
    const store = new FsBlockstore(dir)
    await store.open()
    const blocks = [await randomBlock(), await randomBlock()]
    for (const b of blocks) await store.put(b.cid, b.bytes)
    assert.ok((await readFile(join(dir, '.unsynced'), 'utf8')).length > 0)
    const listed: string[] = []
    for await (const cid of store.cids()) listed.push(cid.toString())
    assert.deepEqual(listed.sort(), blocks.map((b) => b.cid.toString()).sort())
  })

  it('a checkpoint empties the journal: blocks synced before it are not re-checked', async () => {
    const dir = await fresh()
    const store = new FsBlockstore(dir)
    await store.open()
    const synced = await randomBlock()
    await store.put(synced.cid, synced.bytes)
    await store.flush()
    assert.ok(!(await readdir(dir)).includes('.unsynced'))
    const later = await randomBlock()
    await store.put(later.cid, later.bytes)
    const journal = await readFile(join(dir, '.unsynced'), 'utf8')
    assert.equal(journal, `${later.cid}\n`)
    // Damage both: only the unsynced one is the store's to find (the other was durable).
    await writeFile(blockFile(dir, later.cid), randomBytes(later.bytes.length))
    const reopened = new FsBlockstore(dir)
    assert.deepEqual(await reopened.open(), { checked: 1, removed: 1 })
  })

  it('checkpoints by itself every checkpointBytes', async () => {
    const dir = await fresh()
    const store = new FsBlockstore(dir, { checkpointBytes: 3 * 64 * 1024 })
    await store.open()
    const blocks = await Promise.all([1, 2, 3, 4].map(() => randomBlock()))
    for (const b of blocks.slice(0, 3)) await store.put(b.cid, b.bytes)
    // The third block reached checkpointBytes: a checkpoint runs in the background.
    const journal = join(dir, '.unsynced')
    await waitFor(async () => !(await readdir(dir)).includes('.unsynced'), { what: 'the checkpoint' })
    const last = blocks[3] as { cid: CID; bytes: Uint8Array }
    await store.put(last.cid, last.bytes)
    assert.equal(await readFile(journal, 'utf8'), `${last.cid}\n`)
  })

  it('checkpoints where there is no sync command, by syncing each file', async () => {
    const dir = await fresh()
    const store = new FsBlockstore(dir)
    await store.open()
    const b = await randomBlock()
    await store.put(b.cid, b.bytes)
    const path = process.env.PATH
    process.env.PATH = dir // no `sync` to be found
    try {
      await store.flush()
    } finally {
      process.env.PATH = path
    }
    assert.ok(!(await readdir(dir)).includes('.unsynced'))
    assert.equal(await store.has(b.cid), true)
  })
})
