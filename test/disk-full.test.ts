/**
 * A daemon whose data dir is a small tmpfs (made by the test; root only, skipped elsewhere)
 * fills up during `add` and during `get`: the CLI fails with StorageFullError (exit 13), the
 * daemon keeps running, works again once space is freed (gc), and its store stays consistent
 * (every block matches its CID, every pin's DAG complete).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { checkStore } from '../src/testing/store-check.ts'
import { createTestnet, runCli, type TestDaemon } from '../src/testing/testnet.ts'
import { initHome, killDaemon, mountTmpfs, startDaemonOn, tmpfsUnavailable } from './helpers/store-faults.ts'

const MiB = 1024 * 1024
const root = mkdtempSync(join(tmpdir(), 'lateral-diskfull-'))
const mnt = join(root, 'mnt')
mkdirSync(mnt)
const why = await tmpfsUnavailable(mnt)

test('disk full during add and during get: a clear error, a consistent store, working again after gc', {
  skip: why,
}, async (t) => {
  const unmount = await mountTmpfs(mnt, 40)
  const seeders = await createTestnet(1)
  let victim: TestDaemon | undefined
  t.after(async () => {
    if (victim !== undefined) await killDaemon(victim, 'SIGTERM')
    await seeders.stop()
    await unmount()
    rmSync(root, { recursive: true, force: true })
  })
  const home = join(mnt, 'home')
  await initHome(home)
  victim = await startDaemonOn(home, (seeders.daemons[0] as TestDaemon).address)
  const cli = (args: string[]) => runCli([...args, '--home', home], { timeoutMs: 90_000 })

  // Something pinned before the disk fills: it must survive intact.
  const small = join(root, 'small.bin')
  writeFileSync(small, randomBytes(2 * MiB))
  const smallAdd = await cli(['add', small, '--json'])
  assert.equal(smallAdd.code, 0, smallAdd.stderr)
  const smallCid = (JSON.parse(smallAdd.stdout) as { cid: string }).cid

  // add: a file larger than the whole disk.
  const big = join(root, 'big.bin')
  writeFileSync(big, randomBytes(48 * MiB))
  const add = await cli(['add', big])
  assert.equal(add.code, 13, `add exit code (stderr: ${add.stderr})`)
  assert.match(add.stderr, /StorageFull|no space|disk/i)
  assert.equal(victim.process?.exitCode, null, 'the daemon is still running')

  // Space freed before the next case: on a full disk libp2p cannot write its peer store either
  // and a fresh connection does not last, so the get starts with room and fills the disk itself.
  const gcAfterAdd = await cli(['gc'])
  assert.equal(gcAfterAdd.code, 0, gcAfterAdd.stderr)

  // get: content from a peer larger than the whole disk.
  const seeded = await seeders.cli(0, ['add', big, '--json'])
  assert.equal(seeded.code, 0, seeded.stderr)
  const bigCid = (JSON.parse(seeded.stdout) as { cid: string }).cid
  const connect = await cli(['connect', (seeders.daemons[0] as TestDaemon).address])
  assert.equal(connect.code, 0, `connect on a full disk: ${connect.stderr}`)
  const get = await cli(['get', bigCid, '-o', join(root, 'big-out.bin'), '--timeout', '30'])
  assert.equal(get.code, 13, `get exit code (stderr: ${get.stderr})`)
  assert.match(get.stderr, /StorageFull|no space|disk/i)
  assert.equal(victim.process?.exitCode, null, 'the daemon is still running')

  // Space freed: the partial download and the failed add are unpinned blocks, gc removes them.
  const gc = await cli(['gc'])
  assert.equal(gc.code, 0, gc.stderr)
  const again = join(root, 'again.bin')
  writeFileSync(again, randomBytes(4 * MiB))
  const addAgain = await cli(['add', again, '--json'])
  assert.equal(addAgain.code, 0, addAgain.stderr)
  const back = join(root, 'small-back.bin')
  const getSmall = await cli(['get', smallCid, '-o', back])
  assert.equal(getSmall.code, 0, getSmall.stderr)
  assert.ok(readFileSync(back).equals(readFileSync(small)))

  await killDaemon(victim, 'SIGTERM')
  const report = await checkStore(home)
  t.diagnostic(JSON.stringify(report))
  assert.deepEqual(report.corrupt, [])
  assert.deepEqual(report.incompletePins, [])
  assert.equal(report.pins, 2)
})
