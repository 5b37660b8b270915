/**
 * SIGKILL at random moments (seeded; LATERAL_KILL_SEED replays one) during `add` and `get`
 * never leaves a corrupt store: after each kill every block matches its CID and every pin's DAG
 * is complete, and the next start opens the store and works. 5 rounds here; the 50-round loop
 * is `npm run bench -- kills`.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createTestnet, runCli, type TestDaemon } from '../src/testing/testnet.ts'
import { initHome, killDaemon, killLoop, startDaemonOn } from './helpers/store-faults.ts'

test('SIGKILL during add and get never corrupts the store (5 seeded rounds)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lateral-kills-'))
  const seeders = await createTestnet(1)
  t.after(async () => {
    await seeders.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const home = join(dir, 'home')
  await initHome(home)
  const seed = Number(process.env.LATERAL_KILL_SEED ?? 16)
  const runs = await killLoop({
    home,
    dir,
    runs: 5,
    seed,
    windowMs: 1_500,
    fileBytes: 24 * 1024 * 1024,
    seeder: {
      address: (seeders.daemons[0] as TestDaemon).address,
      add: async (path) => {
        const r = await seeders.cli(0, ['add', path, '--json'])
        if (r.code !== 0) throw new Error(r.stderr)
        return (JSON.parse(r.stdout) as { cid: string }).cid
      },
    },
    onRun: (r) => t.diagnostic(JSON.stringify(r)),
  })
  for (const r of runs) {
    assert.deepEqual(r.report.corrupt, [], `seed ${seed} run ${r.run}: corrupt blocks`)
    assert.deepEqual(r.report.incompletePins, [], `seed ${seed} run ${r.run}: incomplete pins`)
  }
  assert.ok(
    runs.some((r) => !r.finishedFirst),
    'at least one kill landed while the operation ran',
  )
  // After the last kill: the node starts and works.
  const daemon = await startDaemonOn(home, (seeders.daemons[0] as TestDaemon).address)
  try {
    const file = join(dir, 'after.bin')
    writeFileSync(file, randomBytes(1024 * 1024))
    const r = await runCli(['add', file, '--home', home])
    assert.equal(r.code, 0, r.stderr)
  } finally {
    await killDaemon(daemon, 'SIGTERM')
  }
})
