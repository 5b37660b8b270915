/**
 * `npm run bench -- sim [capacity|dht|dht-proto|gossip|all] [--quick] [--sizes 100,250,500,1000] [--lookups 100] [--settle-ms 180000]`
 *
 * Resilience at scale in the simulation harness (src/testing/sim/); docs/resilience.md reads
 * the results. Writes bench/results/sim-dht.json + .svg and sim-gossip.json + .svg (each part
 * rewrites its own files, so the parts can run one at a time under the CPU lock).
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { capacityRun } from './lib/sim-capacity.ts'
import { dhtRun } from './lib/sim-dht.ts'
import { dhtProtoRun } from './lib/sim-dht-proto.ts'
import { gossipProcesses, gossipRun } from './lib/sim-gossip.ts'
import { lineChart } from './lib/svg.ts'

const here = dirname(fileURLToPath(import.meta.url))
const results = join(here, 'results')
const log = (line: string) => console.error(line)

function write(name: string, report: unknown, svg: string): void {
  mkdirSync(results, { recursive: true })
  writeFileSync(join(results, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(join(results, `${name}.svg`), svg)
}

async function dht(values: Record<string, string | boolean | undefined>) {
  const quick = values.quick === true
  const sizes = String(values.sizes ?? (quick ? '50,100' : '100,250,500,1000'))
    .split(',')
    .map(Number)
  const lookups = Number(values.lookups ?? (quick ? 20 : 100))
  // `lean` (default): kad-dht, identify, ping over the sim transport with libp2p's plaintext
  // encrypter, no gossipsub, connection monitor or debug loggers; `net`: the whole network layer.
  const lean = String(values.stack ?? 'lean') === 'lean'
  const largest = Math.max(...sizes)
  const runs: Array<Awaited<ReturnType<typeof dhtRun>>> = []
  /** Written after every run, so a run cut short still leaves what it measured. */
  const save = () => {
    const at = (share: number) => runs.flatMap((r) => r.steps.filter((s) => s.killedShare === share))
    const big = runs.find((r) => r.nodes === largest)
    const report = {
      bench: 'sim-dht',
      date: new Date().toISOString(),
      node: process.version,
      stack: lean ? 'lean' : 'net',
      lookupTimeoutMs: Number(values['lookup-timeout'] ?? 20_000),
      dialTimeoutMs: values['dial-timeout'] === undefined ? 'default (10000)' : Number(values['dial-timeout']),
      dhtRpcMinTimeoutMs:
        values['rpc-min-timeout'] === undefined ? 'default (5000)' : Number(values['rpc-min-timeout']),
      latencyMs: values.latency === undefined ? [20, 80] : String(values.latency).split(',').map(Number),
      simulated: lean
        ? `Lateral’s network layer (createNet, buildLibp2pOptions) with NetInit.lean: libp2p 3 with kad-dht (Lateral’s settings), identify, identify-push, ping, the relay transport (no relay reservations asked: no node serves as a relay) and Lateral’s connection gater and peer guard, over the sim transport; libp2p’s plaintext encrypter instead of Noise/TLS (identities exchanged, nothing encrypted), Yamux as deployed; no gossipsub, no connection monitor, libp2p debug loggers replaced by no-ops; all in one process; links ${values.latency ?? '20,80'} ms one way (uniform per link, seeded), no loss; killed nodes vanish without warning (connections go silent, dials unanswered)`
        : `Lateral’s network layer (createNet: libp2p 3 with identify, ping, kad-dht, gossipsub, relay transport, as in a full node) per simulated node, all in one process; links ${values.latency ?? '20,80'} ms one way (uniform per link, seeded), no loss; killed nodes vanish without warning (connections go silent, dials unanswered)`,
      join: 'each node dials 3 random earlier nodes, then runs the self lookup kad-dht runs at start',
      lookups:
        'findPeer of a random live peer from a random live node, walking the DHT (useCache false); getClosestPeers of a random key, compared with the 20 live peers closest by XOR from the full membership',
      targets: { findPeerLive: 0.99, closestOf20: 16, medianHops: 4 },
      runs,
    }
    const points = (share: number, f: (s: ReturnType<typeof at>[number]) => number) =>
      at(share).map((s) => [s.nodes, f(s)] as [number, number])
    const svg = lineChart(
      'DHT lookups against network size and failures',
      'nodes (x) / % killed at the largest size',
      'value',
      [
        { name: 'findPeer success % (20% killed)', points: points(0.2, (s) => s.findPeer.success * 100) },
        { name: 'closest found of 20 (x5, 20% killed)', points: points(0.2, (s) => s.closest.meanOf20 * 5) },
        { name: 'median hops (x10, 20% killed)', points: points(0.2, (s) => s.findPeer.hops.p50 * 10) },
        { name: 'findPeer success % (0 killed)', points: points(0, (s) => s.findPeer.success * 100) },
      ],
    )
    const failureSvg =
      big === undefined
        ? ''
        : lineChart(`DHT at ${largest} nodes against the share killed`, '% killed', 'value', [
            {
              name: 'findPeer success %',
              points: big.steps.map((s) => [s.killedShare * 100, s.findPeer.success * 100]),
            },
            {
              name: 'closest found of 20 (x5)',
              points: big.steps.map((s) => [s.killedShare * 100, s.closest.meanOf20 * 5]),
            },
            {
              name: 'median hops (x10)',
              points: big.steps.map((s) => [s.killedShare * 100, s.findPeer.hops.p50 * 10]),
            },
            {
              name: 'p50 findPeer s (x10)',
              points: big.steps.map((s) => [s.killedShare * 100, s.findPeer.latencyMs.p50 / 100]),
            },
          ])
    const name = String(values.out ?? 'sim-dht')
    write(name, report, svg)
    if (failureSvg !== '') writeFileSync(join(results, `${name}-failures.svg`), failureSvg)
    return report
  }
  for (const n of sizes) {
    log(`dht: ${n} nodes`)
    runs.push(
      await dhtRun({
        nodes: n,
        killSteps:
          values['kill-steps'] !== undefined
            ? String(values['kill-steps']).split(',').map(Number)
            : n === largest
              ? [0, 0.1, 0.2, 0.3]
              : [0, 0.2],
        lookups,
        seed: Number(values.seed ?? 1),
        latencyMs: (values.latency === undefined ? [20, 80] : String(values.latency).split(',').map(Number)) as [
          number,
          number,
        ],
        bootstrapPeers: 3,
        cids: n === largest && values['kill-steps'] === undefined ? 10 : 0,
        // --lookup-timeout with --rpc-min-timeout: the same walks with every deadline stretched,
        // to tell a starved event loop (answers late) from kad-dht's own behaviour.
        lookupTimeoutMs: Number(values['lookup-timeout'] ?? 20_000),
        net: {
          // No node serves as a relay here; without this, every identify makes the relay picker
          // scan the whole peer store for one (4 % of a 48-node profile, growing with N).
          ...(lean
            ? { lean: { pubsub: false, connectionMonitor: false, debugLoggers: false }, relayReservations: 0 }
            : {}),
          encrypters: String(values.encrypters ?? (lean ? 'plaintext' : 'noise')).split(','),
          ...(values['rpc-min-timeout'] === undefined ? {} : { dhtRpcMinTimeoutMs: Number(values['rpc-min-timeout']) }),
          ...(values['dial-timeout'] === undefined ? {} : { dialTimeoutMs: Number(values['dial-timeout']) }),
        },
        log,
      }),
    )
    save()
  }
  console.log(JSON.stringify(save(), null, 2))
}

/**
 * `bench sim dht-proto`: the DHT at the protocol level (real kad-dht, in-process links), up to
 * 1,000 nodes in one process: sim-dht-proto.json + .svg.
 */
async function dhtProto(values: Record<string, string | boolean | undefined>) {
  const sizes = String(values.sizes ?? '100,250,500,1000')
    .split(',')
    .map(Number)
  const largest = Math.max(...sizes)
  const latencyMs = (values.latency === undefined ? [20, 80] : String(values.latency).split(',').map(Number)) as [
    number,
    number,
  ]
  const lookupTimeoutMs = Number(values['lookup-timeout'] ?? 20_000)
  const runs: Array<Awaited<ReturnType<typeof dhtProtoRun>>> = []
  /** Written after every run, so a run cut short still leaves what it measured. */
  const save = () => {
    const at = (share: number, f: (s: (typeof runs)[number]['steps'][number]) => number) =>
      runs.flatMap((r) =>
        r.steps.filter((s) => s.killedShare === share).map((s) => [r.nodes, f(s)] as [number, number]),
      )
    const big = runs.find((r) => r.nodes === largest)
    const byShare = (f: (s: NonNullable<typeof big>['steps'][number]) => number) =>
      (big?.steps ?? []).map((s) => [s.killedShare * 100, f(s)] as [number, number])
    const report = {
      bench: 'sim-dht-proto',
      date: new Date().toISOString(),
      node: process.version,
      simulated: `the real @libp2p/kad-dht 16 per node (routing table, queries, RPC codec and handlers, provider records; Lateral’s settings: /lateral/kad/1.0.0, server mode, passthroughMapper, RPC min timeout 5 s) with libp2p’s peer store on a memory datastore, and Lateral’s Routing for the lookups; libp2p’s transport, encryption, muxer and identify replaced by in-process links (src/net/kad-wire.ts): a dial is one round trip, identify one more, a stream opens in one round trip, then each write crosses after the link’s one-way latency; links ${latencyMs.join('-')} ms one way (uniform per link, seeded), no loss; killed nodes vanish without warning (dials, streams and pings to them get no answer); all in one process`,
      join: 'in waves of up to 50: each node dials 3 random earlier nodes, then runs the self lookup kad-dht runs at start',
      lookups:
        'findPeer of a random live peer from a random live node, walking the DHT (useCache false); getClosestPeers of a random key, compared with the 20 live peers closest by XOR from the full membership; 20 lookups at a time',
      providers:
        '10 CIDs provided by 10 nodes (never killed), each looked up by 3 random live nodes at every kill step; then every CID’s 20 original record holders still alive are killed, lookups again, each provider provides again (a reprovide), lookups again',
      lookupTimeoutMs,
      dhtRpcMinTimeoutMs: values['rpc-min-timeout'] === undefined ? 'default' : Number(values['rpc-min-timeout']),
      dhtRpcMaxTimeoutMs: values['rpc-max-timeout'] === undefined ? 'default' : Number(values['rpc-max-timeout']),
      latencyMs,
      targets: { findPeerLive: 0.99, closestOf20: 16, medianHops: 4 },
      runs,
    }
    const svg = lineChart(
      'DHT at the protocol level (real kad-dht, in-process links)',
      'nodes, or % killed at the largest size',
      'value',
      [
        { name: 'findPeer success % (0 killed), vs N', points: at(0, (s) => s.findPeer.success * 100) },
        { name: 'closest of 20 x5 (0 killed), vs N', points: at(0, (s) => s.closest.meanOf20 * 5) },
        { name: 'median hops x10 (0 killed), vs N', points: at(0, (s) => s.findPeer.hops.p50 * 10) },
        { name: `findPeer success %, ${largest} nodes, vs % killed`, points: byShare((s) => s.findPeer.success * 100) },
        { name: `closest of 20 x5, ${largest} nodes, vs % killed`, points: byShare((s) => s.closest.meanOf20 * 5) },
        { name: `median hops x10, ${largest} nodes, vs % killed`, points: byShare((s) => s.findPeer.hops.p50 * 10) },
      ],
    )
    write(String(values.out ?? 'sim-dht-proto'), report, svg)
    return report
  }
  for (const n of sizes) {
    log(`dht-proto: ${n} nodes`)
    runs.push(
      await dhtProtoRun({
        nodes: n,
        killSteps:
          values['kill-steps'] !== undefined
            ? String(values['kill-steps']).split(',').map(Number)
            : n === largest
              ? [0, 0.1, 0.2, 0.3]
              : [0, 0.2],
        lookups: Number(values.lookups ?? 100),
        seed: Number(values.seed ?? 1),
        latencyMs,
        bootstrapPeers: 3,
        cids: 10,
        lookupTimeoutMs,
        settleMs: Number(values['settle-ms'] ?? 180_000),
        ...(values['rpc-min-timeout'] === undefined ? {} : { rpcMinTimeoutMs: Number(values['rpc-min-timeout']) }),
        ...(values['rpc-max-timeout'] === undefined ? {} : { rpcMaxTimeoutMs: Number(values['rpc-max-timeout']) }),
        log,
      }),
    )
    save()
  }
  console.log(JSON.stringify(save(), null, 2))
}

async function gossip(values: Record<string, string | boolean | undefined>) {
  const quick = values.quick === true
  const n = Number(values['gossip-nodes'] ?? (quick ? 50 : 200))
  const messages = Number(values.messages ?? (quick ? 60 : 200))
  const base = {
    churn: 0.1,
    messages,
    intervalMs: 50,
    degree: 4,
    seed: Number(values.seed ?? 1),
    settleMs: 3000,
    downMs: 3000,
    log,
  }
  const inProcess: Array<Awaited<ReturnType<typeof gossipRun>>> = []
  const processes: Array<Awaited<ReturnType<typeof gossipProcesses>>> = []
  /** Written after every run, so a run cut short still leaves what it measured. */
  const save = () => {
    const report = {
      bench: 'sim-gossip',
      date: new Date().toISOString(),
      node: process.version,
      publish:
        '1 KiB every 50 ms from one publisher; latency from publish to receipt (per delivery) and to the last subscriber (per message)',
      inProcess: {
        simulated:
          "Lateral's network layer (createNet: gossipsub as configured in a full node, Noise) per node over the sim transport; each node dials 4 random others; 10% of the nodes killed without warning during the run and restarted 3 s later (rejoin: dial 4 live nodes, subscribe); a node counts as a subscriber of a message if up 3 s before it and not killed within 2 s after it",
        runs: inProcess,
      },
      processes: {
        simulated:
          'whole Lateral nodes (createNode, TCP on 127.0.0.1, TLS), a ring plus 2 random chords per node, no churn, no added latency',
        runs: processes,
      },
    }
    const series = [
      ...inProcess.map((r) => ({
        name: `${r.nodes} in 1 process, ${r.latencyMs[1] > 0 ? `${r.latencyMs.join('-')} ms links` : 'no latency'}`,
        points: r.cdf.map(([ms, share]) => [ms, share * 100] as [number, number]),
      })),
      ...processes.map((r) => ({
        name: `${r.processes} processes x ${r.perProcess}`,
        points: r.cdf.map(([ms, share]) => [ms, share * 100] as [number, number]),
      })),
    ]
    write(
      String(values.out ?? (processesOnly ? 'sim-gossip-processes' : 'sim-gossip')),
      report,
      lineChart('Gossip delivery latency (CDF, 10% churn in process)', 'ms after publish', '% of deliveries', series, {
        xTicks: 8,
      }),
    )
    return report
  }
  // --processes-only: the runs across processes alone, written to --out (default sim-gossip-processes).
  const processesOnly = values['processes-only'] === true
  for (const [kind, latency] of (processesOnly
    ? []
    : [
        ['net', [20, 80]],
        ['net', [0, 0]],
      ]) as Array<['net' | 'full', [number, number]]>) {
    log(`gossip: ${n} ${kind} nodes in one process, links ${latency.join('-')} ms, 10% churn`)
    const profile =
      values.profile === true && latency[1] === 0 ? join(tmpdir(), 'sim-gossip-in-process.cpuprofile') : undefined
    const r = await gossipRun({
      ...base,
      nodes: n,
      kind,
      latencyMs: latency,
      ...(profile === undefined ? {} : { profile }),
    })
    log(`  ${JSON.stringify({ ...r, cdf: undefined })}`)
    inProcess.push(r)
    save()
  }
  const arrangements = String(values.processes ?? (quick ? '10x5' : '10x20,50x2'))
    .split(',')
    .map((a) => a.split('x').map(Number) as [number, number])
  for (const [p, per] of arrangements) {
    log(`gossip: ${p} processes x ${per} nodes (TCP on 127.0.0.1)`)
    processes.push(await gossipProcesses(p, per, messages, log))
    save()
  }
  console.log(JSON.stringify(save(), null, 2))
}

async function capacity(values: Record<string, string | boolean | undefined>) {
  const quick = values.quick === true
  const full = String(values['full-sizes'] ?? (quick ? '10,25' : '25,50,100,200'))
    .split(',')
    .map(Number)
  const net = String(values['net-sizes'] ?? (quick ? '50,100' : '100,250,500,1000'))
    .split(',')
    .map(Number)
  const runs: Array<Awaited<ReturnType<typeof capacityRun>>> = []
  /** Written after every run, so a run cut short still leaves what it measured. */
  const save = () => {
    const report = {
      bench: 'sim-capacity',
      date: new Date().toISOString(),
      node: process.version,
      what: 'N nodes in one process over the sim transport (no added latency, Noise), each dialling 4 random others, all joined to one topic; then idle 15 s',
      runs,
    }
    const byKind = (k: string, f: (r: (typeof runs)[number]) => number) =>
      runs.filter((r) => r.kind === k).map((r) => [r.nodes, f(r)] as [number, number])
    write(
      'sim-capacity',
      report,
      lineChart('Nodes in one process: idle cost', 'nodes', 'value', [
        { name: 'full: idle CPU % of a core', points: byKind('full', (r) => r.idleCpuShareOfOneCore * 100) },
        { name: 'net: idle CPU % of a core', points: byKind('net', (r) => r.idleCpuShareOfOneCore * 100) },
        { name: 'full: RSS MiB per node x10', points: byKind('full', (r) => r.rssPerNodeMiB * 10) },
        { name: 'net: RSS MiB per node x10', points: byKind('net', (r) => r.rssPerNodeMiB * 10) },
      ]),
    )
    return report
  }
  for (const [kind, sizes] of [
    ['full', full],
    ['net', net],
  ] as Array<['full' | 'net', number[]]>) {
    for (const n of sizes) {
      runs.push(await capacityRun(kind, n, quick ? 5000 : 15_000, log))
      save()
    }
  }
  console.log(JSON.stringify(save(), null, 2))
}

/**
 * `bench sim dht-curve`: the DHT figures of separate runs (one size per locked run, each in its
 * own `--out` file) drawn together against N: sim-dht-curve.json + .svg. `--runs a,b` names the
 * result files (without .json); default every `sim-dht-lean-*.json` but the stretched ones.
 */
function dhtCurve(values: Record<string, string | boolean | undefined>): void {
  const names =
    values.runs === undefined
      ? readdirSync(results)
          .filter((f) => /^sim-dht-lean-\d+\.json$/.test(f))
          .map((f) => f.slice(0, -5))
      : String(values.runs).split(',')
  type Step = {
    killedShare: number
    nodes: number
    findPeer: { success: number; hops: { p50: number } }
    closest: { meanOf20: number }
  }
  const points: Array<{ source: string; step: Step }> = []
  for (const name of names) {
    const report = JSON.parse(readFileSync(join(results, `${name}.json`), 'utf8')) as { runs: Array<{ steps: Step[] }> }
    for (const run of report.runs) for (const step of run.steps) points.push({ source: name, step })
  }
  const series = (share: number, label: string, f: (s: Step) => number) => ({
    name: `${label} (${Math.round(share * 100)}% killed)`,
    points: points
      .filter((p) => p.step.killedShare === share)
      .map((p) => [p.step.nodes, f(p.step)] as [number, number])
      .sort((a, b) => a[0] - b[0]),
  })
  const shares = [...new Set(points.map((p) => p.step.killedShare))].sort()
  const all = shares.flatMap((share) => [
    series(share, 'findPeer success %', (s) => s.findPeer.success * 100),
    series(share, 'closest of 20 x5', (s) => s.closest.meanOf20 * 5),
    series(share, 'median hops x10', (s) => s.findPeer.hops.p50 * 10),
  ])
  write(
    'sim-dht-curve',
    { bench: 'sim-dht-curve', date: new Date().toISOString(), sources: names, points },
    lineChart('DHT (lean stack) against network size', 'nodes', 'value', all),
  )
}

export async function benchSim(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      quick: { type: 'boolean' },
      sizes: { type: 'string' },
      lookups: { type: 'string' },
      seed: { type: 'string' },
      encrypters: { type: 'string' },
      stack: { type: 'string' },
      'rpc-min-timeout': { type: 'string' },
      'lookup-timeout': { type: 'string' },
      'dial-timeout': { type: 'string' },
      latency: { type: 'string' },
      'kill-steps': { type: 'string' },
      'settle-ms': { type: 'string' },
      'rpc-max-timeout': { type: 'string' },
      out: { type: 'string' },
      'gossip-nodes': { type: 'string' },
      'full-sizes': { type: 'string' },
      'net-sizes': { type: 'string' },
      messages: { type: 'string' },
      processes: { type: 'string' },
      profile: { type: 'boolean' },
      'processes-only': { type: 'boolean' },
      runs: { type: 'string' },
    },
  })
  const part = positionals[0] ?? 'all'
  if (part === 'capacity' || part === 'all') await capacity(values)
  if (part === 'dht' || part === 'all') await dht(values)
  if (part === 'dht-curve') dhtCurve(values)
  if (part === 'dht-proto') await dhtProto(values)
  if (part === 'gossip' || part === 'all') await gossip(values)
}
