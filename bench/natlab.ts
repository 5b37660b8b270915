/**
 * `npm run bench -- natlab [--runs N] [--mib M]`: per NAT pair over N runs (default 20), in the
 * NAT lab (root, namespaces): success rate of a connection becoming direct, time to the first
 * message (relayed or direct), time to direct, and throughput of a file fetch (M MiB, default 4)
 * over the connection as it is. Each run is a fresh pair of daemons behind fresh NATs, so DCUtR
 * and relays start from nothing. JSON to bench/results/natlab.json.
 */
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { exercisePair } from '../src/testing/natlab/checks.ts'
import { createNatLab, LAB_PORT, type LabHostKind } from '../src/testing/natlab/index.ts'
import { netnsUnavailable } from '../src/testing/netns.ts'
import { median } from './lib/stats.ts'

const here = dirname(fileURLToPath(import.meta.url))
const MiB = 1024 * 1024
const KINDS: LabHostKind[] = ['public', 'home', 'hard', 'carrier']

interface PairRuns {
  pair: string
  runs: number
  connected: number
  direct: number
  firstMessageMs: number[]
  directMs: number[]
  relayedBps: number[]
  directBps: number[]
  errors: string[]
}

export async function benchNatlab(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { runs: { type: 'string', default: '20' }, mib: { type: 'string', default: '4' } },
  })
  const runs = Number(values.runs)
  const bytes = Number(values.mib) * MiB
  const why = await netnsUnavailable()
  if (why !== undefined) throw new Error(`the NAT lab needs network namespaces: ${why}`)
  const results: PairRuns[] = []
  for (const [i, a] of KINDS.entries()) {
    for (const b of KINDS.slice(i)) {
      const r: PairRuns = {
        pair: `${a}-${b}`,
        runs,
        connected: 0,
        direct: 0,
        firstMessageMs: [],
        directMs: [],
        relayedBps: [],
        directBps: [],
        errors: [],
      }
      for (let run = 0; run < runs; run++) {
        const lab = await createNatLab([
          { name: 'relay', kind: 'public' },
          { name: 'a', kind: a },
          { name: 'b', kind: b },
        ])
        try {
          const relay = await lab.startDaemon('relay', [
            '--relay-server',
            '--relay-data-limit',
            '0',
            '--no-upnp',
            '--announce',
            `/ip4/${lab.host('relay').address}/tcp/${LAB_PORT}`,
          ])
          const args = ['--bootstrap', relay.address, '--no-upnp']
          const da = await lab.startDaemon('a', args)
          const db = await lab.startDaemon('b', args)
          const res = await exercisePair(lab, da, db, { fileBytes: bytes, directWithinMs: 20_000 })
          r.connected++
          r.firstMessageMs.push(res.firstMessageMs)
          if (res.directMs !== undefined) {
            r.direct++
            r.directMs.push(res.directMs)
          }
          ;(res.kind === 'direct' ? r.directBps : r.relayedBps).push(res.fetchBps ?? 0)
        } catch (err) {
          r.errors.push((err as Error).message.slice(0, 200))
        } finally {
          await lab.destroy()
        }
      }
      results.push(r)
      const med = (xs: number[], unit: number, d = 0) => (xs.length === 0 ? '-' : (median(xs) / unit).toFixed(d))
      console.log(
        `${r.pair.padEnd(16)} connected ${r.connected}/${runs}  direct ${r.direct}/${runs}  first message ${med(r.firstMessageMs, 1)} ms  ` +
          `direct after ${med(r.directMs, 1)} ms  relayed ${med(r.relayedBps, MiB, 1)} MiB/s  direct ${med(r.directBps, MiB, 1)} MiB/s`,
      )
    }
  }
  writeFileSync(
    join(here, 'results', 'natlab.json'),
    `${JSON.stringify({ runs, fileBytes: bytes, results }, null, 2)}\n`,
  )
}
