/**
 * Direct writes of the filesystem blockstore (src/store/blockstore.ts): blocks whose length is a
 * multiple of 4 KiB are copied into a page-aligned buffer and written with O_DIRECT; others go
 * through the page cache; a file system that refuses O_DIRECT gets every block through the page
 * cache, losing none. Whichever way, the bytes read back are the bytes written.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { FsBlockstore } from '../src/store/blockstore.ts'
import { blockFile, directWorksIn, randomBlock } from './helpers/raw-blocks.ts'

const MiB = 1024 * 1024

describe('blockstore direct writes', () => {
  const dirs: string[] = []
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })
  const fresh = async (init: ConstructorParameters<typeof FsBlockstore>[1] = {}, root?: string) => {
    const dir = root ?? (await mkdtemp(join(tmpdir(), 'lateral-direct-')))
    if (root === undefined) dirs.push(dir)
    const store = new FsBlockstore(dir, init)
    await store.open()
    return { dir, store }
  }

  it('aligned blocks go direct, others through the page cache; all read back whole, as parts too', async (t) => {
    const { dir, store } = await fresh()
    if (!directWorksIn(dir)) return t.skip('this file system has no O_DIRECT: see the fallback test')
    const whole = await randomBlock(MiB)
    const odd = await randomBlock(MiB - 100)
    const small = await randomBlock(16 * 1024)
    await store.put(whole.cid, whole.bytes)
    await store.put(odd.cid, odd.bytes)
    await store.put(small.cid, small.bytes)
    // A block as the unaligned parts it arrived in (views at odd offsets of larger buffers).
    const parted = await randomBlock(256 * 1024)
    const host = new Uint8Array(parted.bytes.length + 3)
    host.set(parted.bytes, 3)
    const parts = [host.subarray(3, 100_003), host.subarray(100_003)]
    await store.put(parted.cid, parts)
    assert.deepEqual(store.writes, { direct: 2, cached: 2, hashedOffThread: 0, directOn: true })
    for (const b of [whole, odd, small, parted]) {
      assert.deepEqual(await store.getBytes(b.cid), b.bytes)
      assert.deepEqual(new Uint8Array(await readFile(blockFile(dir, b.cid))), b.bytes)
    }
    assert.deepEqual(await readdir(join(dir, '.incoming')), [])
    await store.close()
  })

  it('more writes at once than aligned buffers: each waits its turn and keeps its own bytes', async (t) => {
    const { dir, store } = await fresh({ directSlots: 2 })
    if (!directWorksIn(dir)) return t.skip('this file system has no O_DIRECT')
    const blocks = await Promise.all(Array.from({ length: 12 }, () => randomBlock(MiB)))
    await Promise.all(blocks.map((b) => store.put(b.cid, b.bytes)))
    assert.equal(store.writes.direct, 12)
    for (const b of blocks) assert.deepEqual(await store.getBytes(b.cid), b.bytes)
    await store.close()
  })

  it('directWrites: false writes everything through the page cache', async () => {
    const { store } = await fresh({ directWrites: false })
    const b = await randomBlock(MiB)
    await store.put(b.cid, b.bytes)
    assert.deepEqual(store.writes, { direct: 0, cached: 1, hashedOffThread: 0, directOn: false })
    assert.deepEqual(await store.getBytes(b.cid), b.bytes)
    await store.close()
  })

  it('on a file system that refuses O_DIRECT (ramfs), blocks go through the page cache and none is lost', async (t) => {
    if (process.platform !== 'linux' || process.getuid?.() !== 0) return t.skip('needs root on Linux to mount a ramfs')
    const mountPoint = await mkdtemp(join(tmpdir(), 'lateral-ramfs-'))
    dirs.push(mountPoint)
    execFileSync('mount', ['-t', 'ramfs', 'ramfs', mountPoint])
    try {
      assert.equal(directWorksIn(mountPoint), false, 'ramfs refuses O_DIRECT')
      const { store } = await fresh({}, mountPoint)
      const blocks = await Promise.all(Array.from({ length: 4 }, () => randomBlock(MiB)))
      await Promise.all(blocks.map((b) => store.put(b.cid, b.bytes)))
      assert.equal(store.writes.directOn, false)
      assert.equal(store.writes.direct, 0)
      assert.equal(store.writes.cached, 4)
      for (const b of blocks) assert.deepEqual(await store.getBytes(b.cid), b.bytes)
      // Nothing half-made is left from the refused opens.
      assert.deepEqual(await readdir(join(mountPoint, '.incoming')), [])
      await store.close()
    } finally {
      execFileSync('umount', [mountPoint])
    }
  })
})
