/**
 * The filesystem blockstore on a full disk (a 1 MiB tmpfs made by the test; root only, skipped
 * elsewhere): a block that no longer fits is refused with StorageFullError, whichever way it is
 * given (one buffer, the parts it arrived in, a stream), and nothing of it is kept. A write that
 * runs out of room stops short and says so only by its count: the store once kept such a block
 * cut short (1,032,192 of 1,200,000 bytes) and counted it as stored.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { StorageFullError } from '../src/core/errors.ts'
import { FsBlockstore } from '../src/store/blockstore.ts'
import { randomBlock } from './helpers/raw-blocks.ts'
import { mountTmpfs, tmpfsUnavailable } from './helpers/store-faults.ts'

const root = mkdtempSync(join(tmpdir(), 'lateral-bsfull-'))
const mnt = join(root, 'mnt')
mkdirSync(mnt)
const why = await tmpfsUnavailable(mnt)

/** The block files under `dir` (the journal and spare folders aside). */
function blockFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.startsWith('baf'))
    .map((e) => e.name)
}

test('a block that does not fit is refused whole, as one buffer, as parts or as a stream', { skip: why }, async (t) => {
  const unmount = await mountTmpfs(mnt, 1)
  t.after(async () => {
    await unmount()
    rmSync(root, { recursive: true, force: true })
  })
  // Through the page cache, as on a file system without O_DIRECT (tmpfs refuses it anyway).
  const store = new FsBlockstore(join(mnt, 'blocks'), { directWrites: false, spareFiles: 0 })
  await store.open()
  t.after(() => store.close())
  const small = await randomBlock(10_000)
  await store.put(small.cid, small.bytes)

  const big = await randomBlock(1_200_000)
  const ways: Array<[string, Uint8Array | Uint8Array[] | AsyncIterable<Uint8Array>]> = [
    ['one buffer', big.bytes],
    ['parts', [big.bytes.subarray(0, 300_000), big.bytes.subarray(300_000, 600_000), big.bytes.subarray(600_000)]],
    [
      'a stream',
      (async function* () {
        for (let at = 0; at < big.bytes.length; at += 256 * 1024) yield big.bytes.subarray(at, at + 256 * 1024)
      })(),
    ],
  ]
  for (const [way, value] of ways) {
    await assert.rejects(
      store.put(big.cid, value as Uint8Array | Uint8Array[]),
      StorageFullError,
      `${way}: refused for want of room`,
    )
    assert.equal(await store.has(big.cid), false, `${way}: nothing of it kept`)
    assert.deepEqual(blockFiles(join(mnt, 'blocks')), [small.cid.toString()], `${way}: no file left behind`)
  }
  assert.deepEqual(await store.getBytes(small.cid), small.bytes, 'the block stored before is intact')
})
