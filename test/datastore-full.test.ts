/**
 * LevelDB on a full disk (a small tmpfs made by the test; root only, skipped elsewhere): a write
 * that fails leaves a torn record in LevelDB's log, and plain LevelDB then drops every later
 * write at the next open although each one returned success. The node's datastore must keep
 * every write it acknowledged, and refuse writes with StorageFullError while there is no room.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import { openDatastore } from '../src/store/datastore.ts'
import { mountTmpfs, tmpfsUnavailable } from './helpers/store-faults.ts'

const root = mkdtempSync(join(tmpdir(), 'lateral-dsfull-'))
const mnt = join(root, 'mnt')
mkdirSync(mnt)
const why = await tmpfsUnavailable(mnt)

/** Fill the filesystem with one file; returns its path. */
function fill(dir: string): string {
  const path = join(dir, 'filler')
  const fd = openSync(path, 'w')
  try {
    for (;;) writeSync(fd, randomBytes(64 * 1024))
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC')
  } finally {
    closeSync(fd)
  }
  return path
}

interface Store {
  put(key: Key, value: Uint8Array): Promise<unknown>
  has(key: Key): Promise<boolean>
}

/** Writes until the disk is full, frees it, writes `/after`; reports what failed on the way. */
async function fillWriteAndFree(dir: string, store: Store): Promise<{ failures: number; errors: string[] }> {
  for (let i = 0; i < 50; i++) await store.put(new Key(`/before/${i}`), randomBytes(100))
  const filler = fill(dir)
  const errors: string[] = []
  for (let i = 0; i < 500; i++) {
    await store.put(new Key(`/during/${i}`), randomBytes(200)).catch((err: Error) => errors.push(String(err)))
  }
  rmSync(filler)
  await store.put(new Key('/after'), Uint8Array.of(1))
  return { failures: errors.length, errors }
}

test('LevelDB on a full disk: acknowledged writes survive the next open, writes refused while full', {
  skip: why,
}, async (t) => {
  const unmount = await mountTmpfs(mnt, 24)
  t.after(async () => {
    await unmount()
    rmSync(root, { recursive: true, force: true })
  })

  await t.test('plain LevelDB loses a write acknowledged after a failed one (why the guard exists)', async () => {
    const dir = join(mnt, 'plain')
    const plain = new LevelDatastore(dir)
    await plain.open()
    const { failures } = await fillWriteAndFree(mnt, plain)
    assert.ok(failures > 0, 'some writes failed on the full disk')
    assert.equal(await plain.has(new Key('/after')), true)
    await plain.close()
    const reopened = new LevelDatastore(dir)
    await reopened.open()
    assert.equal(await reopened.has(new Key('/before/49')), true)
    assert.equal(await reopened.has(new Key('/after')), false, 'LevelDB itself dropped the acknowledged write')
    await reopened.close()
    rmSync(dir, { recursive: true })
  })

  await t.test("the node's datastore keeps every acknowledged write", async () => {
    const dir = join(mnt, 'guarded')
    const opened = await openDatastore(dir)
    const acknowledged: Key[] = []
    const store: Store = {
      put: async (key, value) => {
        await opened.datastore.put(key, value)
        acknowledged.push(key)
      },
      has: async (key) => opened.datastore.has(key),
    }
    const { failures } = await fillWriteAndFree(mnt, store)
    assert.ok(failures > 0, 'some writes failed on the full disk')
    const b = opened.datastore.batch()
    b.put(new Key('/batched'), Uint8Array.of(2))
    await b.commit()
    acknowledged.push(new Key('/batched'))
    await opened.close()
    const reopened = await openDatastore(dir)
    for (const key of acknowledged) assert.equal(await reopened.datastore.has(key), true, `${key} survives`)
    await reopened.close()
    rmSync(dir, { recursive: true })
  })

  await t.test('after a failed write, writes fail with StorageFullError until there is room', async () => {
    const dir = join(mnt, 'refusing')
    const opened = await openDatastore(dir)
    await opened.datastore.put(new Key('/first'), Uint8Array.of(1))
    const filler = fill(mnt)
    await assert.rejects(async () => opened.datastore.put(new Key('/x'), randomBytes(64 * 1024)), {
      name: 'StorageFullError',
    })
    await assert.rejects(async () => opened.datastore.put(new Key('/y'), Uint8Array.of(1)), {
      name: 'StorageFullError',
    })
    // Some room, but less than the log rotation needs: still refused, and nothing written.
    rmSync(filler)
    const ballast = join(mnt, 'ballast')
    writeFileSync(ballast, randomBytes(12 * 1024 * 1024))
    await assert.rejects(
      async () => opened.datastore.put(new Key('/y'), Uint8Array.of(1)),
      /refuses writes until 16 MiB are free/,
    )
    assert.equal(await opened.datastore.has(new Key('/first')), true, 'reads still work')
    rmSync(ballast)
    await opened.datastore.put(new Key('/y'), Uint8Array.of(1))
    await opened.close()
    const reopened = await openDatastore(dir)
    assert.equal(await reopened.datastore.has(new Key('/first')), true)
    assert.equal(await reopened.datastore.has(new Key('/y')), true)
    await reopened.close()
  })
})
