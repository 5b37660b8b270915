/**
 * `npm run bench -- floods [--kinds streams,wants,topic,dm,dht,junk] [--seconds 30] [--size MiB] [--out NAME]`
 *
 * Each flood of test/helpers/flooder.ts from one hostile peer against a daemon (from dist/, on
 * 127.0.0.1) while a second daemon fetches a file from it and chats on a topic it reads. Per
 * flood: the target's RSS and its API latency (`GET /v1/id`) sampled every 250 ms, whether the
 * honest work completed, and whether the flooder ended disconnected and banned. Every flood
 * runs on a fresh testnet so one flood's ban does not carry into the next. JSON and two SVG
 * plots (RSS over time, API latency over time, one line per flood) go to bench/results/.
 * A measurement, not a test: nothing is asserted.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createTestnet } from '../src/testing/testnet.ts'
import { addHonestFile, type FloodOutcome, runFlood } from '../test/helpers/flood-scenario.ts'
import { FLOOD_KINDS, type FloodKind } from '../test/helpers/flooder.ts'
import { lineChart } from './lib/svg.ts'

const here = dirname(fileURLToPath(import.meta.url))

export async function benchFloods(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kinds: { type: 'string', default: FLOOD_KINDS.join(',') },
      seconds: { type: 'string', default: '30' },
      size: { type: 'string', default: '32' },
      out: { type: 'string', default: 'floods' },
    },
  })
  const kinds = (values.kinds as string).split(',') as FloodKind[]
  const durationMs = Number(values.seconds) * 1000
  const outcomes: FloodOutcome[] = []
  for (const kind of kinds) {
    const dir = mkdtempSync(join(tmpdir(), 'lateral-floods-'))
    const net = await createTestnet(2, { bootstrap: 'first' })
    try {
      const file = await addHonestFile(net, dir, Number(values.size) * 1024 * 1024)
      const outcome = await runFlood(net, kind, { ...file, outDir: dir }, { durationMs })
      outcomes.push(outcome)
      const { samples: _, ...summary } = outcome
      console.log(JSON.stringify(summary))
    } finally {
      await net.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  const results = join(here, 'results')
  writeFileSync(
    join(results, `${values.out}.json`),
    `${JSON.stringify({ at: new Date().toISOString(), node: process.version, durationMs, outcomes }, null, 2)}\n`,
  )
  writeFileSync(
    join(results, `${values.out}-rss.svg`),
    lineChart(
      'Target daemon RSS under each flood',
      'seconds since the flood started',
      'RSS (MiB)',
      outcomes.map((o) => ({ name: o.kind, points: o.samples.map((s) => [s.t / 1000, s.rssMiB] as [number, number]) })),
    ),
  )
  writeFileSync(
    join(results, `${values.out}-api.svg`),
    lineChart(
      'Target daemon API latency (GET /v1/id) under each flood',
      'seconds since the flood started',
      'latency (ms)',
      outcomes.map((o) => ({
        name: o.kind,
        points: o.samples.filter((s) => Number.isFinite(s.apiMs)).map((s) => [s.t / 1000, s.apiMs] as [number, number]),
      })),
    ),
  )
}
