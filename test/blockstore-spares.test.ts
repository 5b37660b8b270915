/**
 * The filesystem blockstore recycles the files of deleted blocks (src/store/blockstore.ts):
 * delete() moves a block's file to `.spare/` and empties it, and put() writes the next block
 * into it instead of creating a file. A block being read is never recycled under its reader.
 */
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { NotFoundError } from '../src/core/errors.ts'
import { FsBlockstore } from '../src/store/blockstore.ts'
import { blockFile, randomBlock } from './helpers/raw-blocks.ts'

async function listed(store: FsBlockstore): Promise<string[]> {
  const out: string[] = []
  for await (const cid of store.cids()) out.push(cid.toString())
  return out
}

async function spares(dir: string): Promise<Array<{ name: string; size: number }>> {
  const names = await readdir(join(dir, '.spare'))
  return Promise.all(names.map(async (name) => ({ name, size: (await stat(join(dir, '.spare', name))).size })))
}

describe('blockstore spare files', () => {
  const dirs: string[] = []
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })
  const fresh = async (spareFiles?: number) => {
    const dir = await mkdtemp(join(tmpdir(), 'lateral-spares-'))
    dirs.push(dir)
    const store = new FsBlockstore(dir, spareFiles === undefined ? {} : { spareFiles })
    await store.open()
    return { dir, store }
  }

  it("a deleted block's file, emptied, takes a block written after the next checkpoint: same inode, the new bytes", async () => {
    const { dir, store } = await fresh()
    const a = await randomBlock()
    const b = await randomBlock(100_000)
    const c = await randomBlock()
    await store.put(a.cid, a.bytes)
    const inode = (await stat(blockFile(dir, a.cid))).ino
    await store.delete(a.cid)
    assert.equal(await store.has(a.cid), false)
    await assert.rejects(store.getBytes(a.cid), NotFoundError)
    assert.deepEqual(store.spareFiles, { ready: 0, pending: 1 })
    assert.deepEqual(
      (await spares(dir)).map((s) => s.size),
      [0],
      'the spare holds no data: deleting frees the space',
    )
    // Until a checkpoint has synced its move out of the shard, the file takes no block.
    await store.put(c.cid, c.bytes)
    assert.notEqual((await stat(blockFile(dir, c.cid))).ino, inode, 'not reused before the checkpoint')
    await store.flush()
    assert.deepEqual(store.spareFiles, { ready: 1, pending: 0 })
    await store.put(b.cid, b.bytes)
    assert.equal((await stat(blockFile(dir, b.cid))).ino, inode, 'written into the recycled file')
    assert.deepEqual(await store.getBytes(b.cid), b.bytes)
    assert.equal((await stat(blockFile(dir, b.cid))).size, b.bytes.length)
    assert.deepEqual(store.spareFiles, { ready: 0, pending: 0 })
    assert.deepEqual(await spares(dir), [])
    // Only real blocks are listed, whatever sits in .spare.
    await store.delete(b.cid)
    assert.deepEqual(await listed(store), [c.cid.toString()])
    await store.close()
  })

  it('with its .spare folder removed by hand, delete still deletes and put still writes', async () => {
    const { dir, store } = await fresh()
    const [a, b, c] = await Promise.all([randomBlock(), randomBlock(), randomBlock()])
    await store.put(a.cid, a.bytes)
    await store.put(b.cid, b.bytes)
    await store.delete(a.cid)
    await store.flush()
    assert.deepEqual(store.spareFiles, { ready: 1, pending: 0 })
    await rm(join(dir, '.spare'), { recursive: true })
    await store.delete(b.cid)
    assert.equal(await store.has(b.cid), false, 'deleted though it could not be recycled')
    await store.put(c.cid, c.bytes)
    assert.deepEqual(await store.getBytes(c.cid), c.bytes, 'written to a new file when its spare is gone')
    assert.deepEqual(await listed(store), [c.cid.toString()])
    await store.close()
  })

  it('a block being read is not recycled: its reader gets its own bytes or NotFound, never others', async () => {
    const { store } = await fresh()
    for (const read of ['getBytes', 'readInto'] as const) {
      const a = await randomBlock(256 * 1024)
      const b = await randomBlock(256 * 1024)
      await store.put(a.cid, a.bytes)
      const target = new Uint8Array(256 * 1024)
      // The read starts first (it is noted before its file is opened), then the block goes.
      // Its outcome is caught at once: a NotFound must not go unhandled while the test goes on.
      const reading = (
        read === 'getBytes' ? store.getBytes(a.cid) : store.readInto(a.cid, target).then(() => target.slice())
      ).catch((err: unknown) => err)
      const before = store.spareFiles
      await store.delete(a.cid)
      assert.deepEqual(store.spareFiles, before, `${read}: a block with a reader is not recycled`)
      await store.flush()
      await store.put(b.cid, b.bytes)
      // The read and the unlink race in the file-system pool: the reader gets the block's own
      // bytes or NotFound, never anything else.
      const got = await reading
      if (!(got instanceof NotFoundError)) assert.deepEqual(got, a.bytes, `${read} got the deleted block's own bytes`)
      assert.deepEqual(await store.getBytes(b.cid), b.bytes)
      await store.delete(b.cid)
    }
    await store.close()
  })

  it('keeps at most spareFiles; the others are unlinked; open() empties .spare', async () => {
    const { dir, store } = await fresh(2)
    const blocks = await Promise.all([1, 2, 3, 4].map(() => randomBlock()))
    for (const b of blocks) await store.put(b.cid, b.bytes)
    for (const b of blocks) await store.delete(b.cid)
    assert.deepEqual(store.spareFiles, { ready: 0, pending: 2 })
    assert.deepEqual(
      (await spares(dir)).map((s) => s.size),
      [0, 0],
    )
    await store.close()
    const again = new FsBlockstore(dir, { spareFiles: 2 })
    await again.open()
    assert.deepEqual(await spares(dir), [])
    assert.deepEqual(again.spareFiles, { ready: 0, pending: 0 })
    await again.close()

    const { dir: none, store: off } = await fresh(0)
    const c = await randomBlock()
    await off.put(c.cid, c.bytes)
    await off.delete(c.cid)
    assert.deepEqual(off.spareFiles, { ready: 0, pending: 0 })
    assert.deepEqual(await spares(none), [])
    await off.close()
  })
})
