/**
 * `npm run bench -- natlab [--runs N] [--mib M] [--pairs public-home,home-home]`: per NAT pair over
 * N runs (default 20), in the NAT lab (root, namespaces): success rate of a connection becoming
 * direct, time to the first message (relayed or direct, from `lateral connect PEER_ID`), time to
 * direct, and throughput of a file fetch (M MiB, default 4) over the connection as it is then.
 *
 * One lab for the whole run: two relays (the first the bootstrap peer), two AutoNAT helpers, and
 * two hosts of each kind behind their own NATs. Each run starts two fresh daemons (new homes, new
 * peer IDs) on the pair's hosts and stops them after, so AutoNAT, relays and DCUtR start from
 * nothing for them. Pairs given with --pairs are (re)measured and merged into
 * bench/results/natlab.json (so the 11 pairs, the 10 of public, home, hard and carrier NATs and
 * hard with a UPnP-mapped host, can be run in chunks); bench/results/natlab.md is
 * the table made from it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { exercisePair } from '../src/testing/natlab/checks.ts'
import { createNatLab, LAB_PORT, type LabHostKind } from '../src/testing/natlab/index.ts'
import { netnsUnavailable } from '../src/testing/netns.ts'
import type { TestDaemon } from '../src/testing/testnet.ts'
import { median } from './lib/stats.ts'

const here = dirname(fileURLToPath(import.meta.url))
const MiB = 1024 * 1024
const KINDS = ['public', 'home', 'hard', 'carrier'] as const
/** Besides every pair of KINDS: a host whose router maps its port by UPnP, with a hard NAT (no punch gets through one). */
const MAPPED_PAIRS: Array<[LabHostKind, LabHostKind]> = [['hard', 'upnp']]
/** How long a run waits for the connection to become direct: where one side is public or mapped, and between NATs. */
const DIRECT_WAIT_PUBLIC_MS = 30_000
const DIRECT_WAIT_NATS_MS = 10_000

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

interface Results {
  fileBytes: number
  machine: string
  results: PairRuns[]
  /** Anything else written by hand (notes, earlier figures): kept as it is. */
  [other: string]: unknown
}

const med = (xs: number[], unit: number, d = 0) => (xs.length === 0 ? '-' : (median(xs) / unit).toFixed(d))
const range = (xs: number[], unit: number, d = 1) =>
  xs.length === 0 ? '-' : `${(Math.min(...xs) / unit).toFixed(d)}–${(Math.max(...xs) / unit).toFixed(d)}`

function table(results: PairRuns[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.pair} | ${r.connected}/${r.runs} | ${r.direct}/${r.runs} | ${med(r.firstMessageMs, 1000, 1)} s (${range(r.firstMessageMs, 1000)}) | ` +
      `${med(r.directMs, 1000, 1)}${r.directMs.length === 0 ? '' : ' s'}${r.directMs.length === 0 ? '' : ` (${range(r.directMs, 1000)})`} | ${med(r.relayedBps, MiB, 1)} | ${med(r.directBps, MiB, 1)} |`,
  )
  return [
    '| pair | connected | direct | first message, median (range) | direct after, median (range) | relayed MiB/s | direct MiB/s |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n')
}

export async function benchNatlab(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string', default: '20' },
      mib: { type: 'string', default: '4' },
      pairs: { type: 'string' },
    },
  })
  const runs = Number(values.runs)
  const bytes = Number(values.mib) * MiB
  const why = await netnsUnavailable()
  if (why !== undefined) throw new Error(`the NAT lab needs network namespaces: ${why}`)
  const all: Array<[LabHostKind, LabHostKind]> = [
    ...KINDS.flatMap((a, i) => KINDS.slice(i).map((b) => [a, b] as [LabHostKind, LabHostKind])),
    ...MAPPED_PAIRS,
  ]
  const wanted = values.pairs?.split(',') ?? all.map(([a, b]) => `${a}-${b}`)
  // In the order given (the most telling pairs first when time is short).
  const pairs = wanted.flatMap((w) => all.filter(([a, b]) => `${a}-${b}` === w))
  if (pairs.length !== wanted.length)
    throw new Error(`unknown pair in ${values.pairs}; pairs are ${all.map((p) => p.join('-')).join(', ')}`)

  const infra = ['boot', 'relay2', 'helper1', 'helper2']
  const lab = await createNatLab([
    ...infra.map((name) => ({ name, kind: 'public' as const })),
    ...[...KINDS, 'upnp' as const].flatMap((kind) => [1, 2].map((n) => ({ name: `${kind}${n}`, kind }))),
  ])
  const measured: PairRuns[] = []
  try {
    const announce = (name: string) => ['--announce', `/ip4/${lab.host(name).address}/tcp/${LAB_PORT}`, '--no-upnp']
    const relayArgs = ['--relay-server', '--relay-data-limit', '0']
    const boot = await lab.startDaemon('boot', [...relayArgs, ...announce('boot')])
    const others = await Promise.all([
      lab.startDaemon('relay2', [...relayArgs, ...announce('relay2'), '--bootstrap', boot.address]),
      lab.startDaemon('helper1', [...announce('helper1'), '--bootstrap', boot.address]),
      lab.startDaemon('helper2', [...announce('helper2'), '--bootstrap', boot.address]),
    ])
    const bootstrap = [boot, ...others].flatMap((d) => ['--bootstrap', d.address])
    for (const [a, b] of pairs) {
      const r: PairRuns = {
        pair: `${a}-${b}`,
        runs: 0,
        connected: 0,
        direct: 0,
        firstMessageMs: [],
        directMs: [],
        relayedBps: [],
        directBps: [],
        errors: [],
      }
      // Reaching a public or mapped host waits for AutoNAT to confirm its address.
      const reachable = (k: LabHostKind) => k === 'public' || k === 'upnp'
      const directWithinMs = reachable(a) || reachable(b) ? DIRECT_WAIT_PUBLIC_MS : DIRECT_WAIT_NATS_MS
      for (let run = 0; run < runs; run++) {
        const started: TestDaemon[] = []
        try {
          const start = async (host: string, kind: LabHostKind) => {
            // Carrier hosts' home routers and upnp hosts' routers answer UPnP; no other router does.
            const upnp = kind === 'carrier' || kind === 'upnp'
            const d = await lab.startDaemon(host, [...bootstrap, ...(upnp ? [] : ['--no-upnp'])])
            started.push(d)
            return d
          }
          const [da, db] = await Promise.all([start(`${a}1`, a), start(`${b}2`, b)])
          const res = await exercisePair(lab, da as TestDaemon, db as TestDaemon, { fileBytes: bytes, directWithinMs })
          r.connected++
          r.firstMessageMs.push(res.firstMessageMs)
          if (res.directMs !== undefined) {
            r.direct++
            r.directMs.push(res.directMs)
          }
          ;(res.kind === 'direct' ? r.directBps : r.relayedBps).push(res.fetchBps ?? 0)
        } catch (err) {
          r.errors.push((err as Error).message.slice(0, 300))
        } finally {
          await Promise.all(started.map((d) => lab.stopDaemon(d)))
        }
        r.runs = run + 1
        process.stdout.write(`${r.pair} run ${run + 1}/${runs}: connected ${r.connected} direct ${r.direct}\n`)
        // Saved after every run: a benchmark cut short keeps what it measured.
        save([...measured.filter((m) => m !== r), r], bytes, all)
      }
      measured.push(r)
      console.log(table([r]).split('\n')[2])
    }
  } finally {
    await lab.destroy()
  }
  console.log(table(save(measured, bytes, all)))
}

/** Merge the pairs measured into bench/results/natlab.json (by pair) and write the table; returns all results. */
function save(measured: PairRuns[], bytes: number, all: Array<[LabHostKind, LabHostKind]>): PairRuns[] {
  const path = join(here, 'results', 'natlab.json')
  const previous: Results | undefined = existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as Results)
    : undefined
  const keep = previous?.fileBytes === bytes && Array.isArray(previous.results) ? previous.results : []
  const order = all.map(([a, b]) => `${a}-${b}`)
  const results = [...keep.filter((r) => !measured.some((m) => m.pair === r.pair)), ...measured].sort(
    (x, y) => order.indexOf(x.pair) - order.indexOf(y.pair),
  )
  const out: Results = {
    ...previous,
    fileBytes: bytes,
    machine: '2 shared cores, runs under flock /work/cpu.lock',
    results,
  }
  writeFileSync(path, `${JSON.stringify(out, null, 2)}\n`)
  writeFileSync(
    join(here, 'results', 'natlab.md'),
    `# NAT lab benchmark (npm run bench -- natlab)\n\n${(bytes / MiB).toFixed(0)} MiB fetched per run; direct waited for ${DIRECT_WAIT_PUBLIC_MS / 1000} s where one side is public, ${DIRECT_WAIT_NATS_MS / 1000} s between NATs.\n\n${table(results)}\n`,
  )
  return results
}
