/**
 * `npm run bench -- kills [--runs 50] [--seed 16] [--window-ms 1500] [--size 24] [--disk-mib 0]`
 *
 * SIGKILL at seeded random moments during `add` and `get` (test/helpers/store-faults.ts
 * killLoop) on one home, --runs times; after each kill the store is checked offline (every
 * block against its CID, every pin's DAG complete) and the next round starts on what the kill
 * left. With --disk-mib N (root only) the home is a tmpfs of N MiB, so later rounds also meet a
 * full disk. Writes bench/results/kills.json. A measurement: it reports, it does not assert.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createTestnet, type TestDaemon } from '../src/testing/testnet.ts'
import { initHome, killLoop, mountTmpfs } from '../test/helpers/store-faults.ts'

const here = dirname(fileURLToPath(import.meta.url))

export async function benchKills(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '50' },
      seed: { type: 'string', default: '16' },
      'window-ms': { type: 'string', default: '1500' },
      size: { type: 'string', default: '24' },
      'disk-mib': { type: 'string', default: '0' },
    },
  })
  const dir = mkdtempSync(join(tmpdir(), 'lateral-kills-bench-'))
  const seeders = await createTestnet(1)
  const mnt = join(dir, 'mnt')
  mkdirSync(mnt)
  const diskMiB = Number(values['disk-mib'])
  const unmount = diskMiB > 0 ? await mountTmpfs(mnt, diskMiB) : async () => {}
  const started = Date.now()
  try {
    const home = join(mnt, 'home')
    await initHome(home)
    const runs = await killLoop({
      home,
      dir,
      runs: Number(values.runs),
      seed: Number(values.seed),
      windowMs: Number(values['window-ms']),
      fileBytes: Number(values.size) * 1024 * 1024,
      seeder: {
        address: (seeders.daemons[0] as TestDaemon).address,
        add: async (path) => {
          const r = await seeders.cli(0, ['add', path, '--json'])
          if (r.code !== 0) throw new Error(r.stderr)
          return (JSON.parse(r.stdout) as { cid: string }).cid
        },
      },
      onRun: (r) => console.log(JSON.stringify(r)),
    })
    const summary = {
      at: new Date().toISOString(),
      seed: Number(values.seed),
      runs: runs.length,
      diskMiB,
      killedMidOperation: runs.filter((r) => !r.finishedFirst).length,
      runsWithCorruptBlocks: runs.filter((r) => r.report.corrupt.length > 0).length,
      runsWithIncompletePins: runs.filter((r) => r.report.incompletePins.length > 0).length,
      maxIncomingLeftovers: Math.max(...runs.map((r) => r.report.incoming)),
      finalBlocks: runs.at(-1)?.report.blocks,
      finalPins: runs.at(-1)?.report.pins,
      seconds: (Date.now() - started) / 1000,
      rounds: runs,
    }
    const { rounds: _, ...head } = summary
    console.log(JSON.stringify(head))
    writeFileSync(join(here, 'results', 'kills.json'), `${JSON.stringify(summary, null, 2)}\n`)
  } finally {
    await seeders.stop()
    await unmount()
    rmSync(dir, { recursive: true, force: true })
  }
}
