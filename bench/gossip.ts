/**
 * `npm run bench -- gossip [--sizes 10,50,100] [--messages 100] [--rounds-throughput 1000]`
 *
 * Topic delivery over gossipsub, publish -> last subscriber:
 * - in one process over the memory transport, for each size: latency (median, p99) with one
 *   publisher sending 1 KiB every 50 ms, delivery ratio; sustained messages/s for one publisher
 *   at 1 KiB (open loop: back to back, with the share delivered); and at the largest size, the
 *   same latency run while 10% of the nodes are killed;
 * - across processes on 127.0.0.1 (TCP): 10 processes x 1 node and 10 processes x 5 nodes.
 * Topology: a ring plus 2 random chords per node. JSON and an SVG plot in bench/results/.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'
import { now, payload, percentile, record, sparseEdges, TOPIC, waitForMeshes } from './lib/gossip-net.ts'
import { median } from './lib/stats.ts'
import { lineChart } from './lib/svg.ts'

const here = dirname(fileURLToPath(import.meta.url))
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface LatencyResult {
  nodes: number
  messages: number
  medianMs: number
  p99Ms: number
  maxMs: number
  delivery: number
  killed?: number
}

/** Latencies to the last receiver and the delivery ratio, from publish and receipt times. */
function summarise(
  nodes: number,
  published: Map<number, number>,
  receipts: Map<number, Map<number, number>>,
  receivers: number[],
): Omit<LatencyResult, 'killed'> {
  const lastArrivals: number[] = []
  let delivered = 0
  for (const [index, sentAt] of published) {
    let last = 0
    for (const r of receivers) {
      const at = receipts.get(r)?.get(index)
      if (at !== undefined) {
        delivered++
        last = Math.max(last, at - sentAt)
      }
    }
    lastArrivals.push(last)
  }
  return {
    nodes,
    messages: published.size,
    medianMs: round(median(lastArrivals)),
    p99Ms: round(percentile(lastArrivals, 99)),
    maxMs: round(Math.max(...lastArrivals)),
    delivery: Number((delivered / (published.size * receivers.length)).toFixed(4)),
  }
}

const round = (v: number) => Math.round(v * 10) / 10

async function inProcess(n: number, messages: number, throughputCount: number, killFraction = 0, settleMs = 1000) {
  const network = await createMemoryNetwork(n, { connections: { autoDialTarget: 0 } })
  const nodes = network.nodes
  try {
    await Promise.all(sparseEdges(n, 2).map(([a, b]) => network.connect(a, b)))
    const receipts = new Map<number, Map<number, number>>()
    nodes.forEach((node, i) => {
      receipts.set(i, new Map())
      node.messaging.join(TOPIC)
      record(node, (index, at) => receipts.get(i)?.set(index, at))
    })
    await waitForMeshes(nodes, Math.min(4, n - 1))
    // Let start-up work (DHT refresh, identify) settle: a running network is what is measured.
    await pause(settleMs)
    const publisher = nodes[0] as LateralNode
    const toKill = new Set<number>()
    while (toKill.size < Math.round(n * killFraction)) toKill.add(1 + Math.floor(Math.random() * (n - 1)))
    const killAt = new Map([...toKill].map((i, k) => [Math.floor(((k + 1) * messages) / (toKill.size + 1)), i]))

    const published = new Map<number, number>()
    for (let k = 0; k < messages; k++) {
      const victim = killAt.get(k)
      if (victim !== undefined) void (nodes[victim] as LateralNode).stop()
      published.set(k, now())
      await publisher.messaging.publish(TOPIC, payload(k, 1024), { type: 'application/octet-stream' })
      await pause(50)
    }
    const survivors = nodes.map((_, i) => i).filter((i) => i !== 0 && !toKill.has(i))
    await waitFor(() => survivors.every((r) => (receipts.get(r)?.size ?? 0) >= messages), { timeoutMs: 10_000 }).catch(
      () => {},
    )
    const latency = {
      ...summarise(n, published, receipts, survivors),
      ...(toKill.size > 0 ? { killed: toKill.size } : {}),
    }

    let throughput: { messagesPerSecond: number; delivery: number; count: number } | undefined
    if (killFraction === 0) {
      // Open loop: publish back to back; report the rate reached and how much arrived. Beyond
      // what the peers can process, gossipsub drops (delivery < 1) rather than queue forever.
      for (const r of receipts.values()) r.clear()
      const start = now()
      for (let k = 0; k < throughputCount; k++) {
        await publisher.messaging.publish(TOPIC, payload(k, 1024), { type: 'application/octet-stream' })
      }
      await waitFor(() => survivors.every((r) => (receipts.get(r)?.size ?? 0) >= throughputCount), {
        timeoutMs: 60_000,
      }).catch(() => {})
      const lastAt = Math.max(...survivors.flatMap((r) => [...(receipts.get(r)?.values() ?? [])]))
      const delivered = survivors.reduce((sum, r) => sum + (receipts.get(r)?.size ?? 0), 0)
      throughput = {
        count: throughputCount,
        messagesPerSecond: Math.round(throughputCount / ((lastAt - start) / 1000)),
        delivery: Number((delivered / (throughputCount * survivors.length)).toFixed(4)),
      }
    }
    return { latency, throughput }
  } finally {
    await network.stop()
  }
}

async function crossProcess(processes: number, perProcess: number, messages: number) {
  const peer = join(here, 'lib', 'gossip-peer.ts')
  const children = Array.from({ length: processes }, (_, p) =>
    spawn(process.execPath, [peer, String(perProcess), String(p * perProcess)], { stdio: ['pipe', 'pipe', 'inherit'] }),
  )
  const readers = children.map((c) =>
    createInterface({ input: c.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator](),
  )
  const ask = async (p: number, cmd: unknown) => {
    children[p]?.stdin?.write(`${JSON.stringify(cmd)}\n`)
    return JSON.parse((await readers[p]?.next())?.value as string)
  }
  try {
    const addresses = (
      await Promise.all(readers.map(async (r) => JSON.parse((await r.next()).value as string).addresses))
    ).flat() as string[]
    const n = addresses.length
    const edges = new Map<number, Array<[number, string]>>()
    for (const [a, b] of sparseEdges(n, 2)) {
      const p = Math.floor(a / perProcess)
      edges.set(p, [...(edges.get(p) ?? []), [a % perProcess, addresses[b] as string]])
    }
    await Promise.all(children.map((_, p) => ask(p, { cmd: 'connect', edges: edges.get(p) ?? [] })))
    await Promise.all(children.map((_, p) => ask(p, { cmd: 'mesh', min: Math.min(4, n - 1) })))
    await pause(1000)
    const { published } = await ask(0, { cmd: 'publish', count: messages, intervalMs: 50, size: 1024 })
    await pause(1000)
    const receipts = new Map<number, Map<number, number>>()
    for (let p = 0; p < processes; p++) {
      for (const [node, index, at] of (await ask(p, { cmd: 'report' })).receipts as Array<[number, number, number]>) {
        const m = receipts.get(node) ?? new Map()
        m.set(index, at)
        receipts.set(node, m)
      }
    }
    const receivers = Array.from({ length: n - 1 }, (_, i) => i + 1)
    return {
      processes,
      perProcess,
      ...summarise(n, new Map(published as Array<[number, number]>), receipts, receivers),
    }
  } finally {
    for (const c of children) c.stdin?.write(`${JSON.stringify({ cmd: 'exit' })}\n`)
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)))
  }
}

export async function benchGossip(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: 'string', default: '10,50,100' },
      messages: { type: 'string', default: '100' },
      throughput: { type: 'string', default: '1000' },
      settle: { type: 'string', default: '1' },
    },
  })
  const sizes = (values.sizes as string).split(',').map(Number)
  const messages = Number(values.messages)
  const inProc: LatencyResult[] = []
  const throughputs: Array<{
    nodes: number
    messagesPerSecond: number
    delivery: number
    count: number
  }> = []
  for (const n of sizes) {
    const t0 = performance.now()
    const { latency, throughput } = await inProcess(
      n,
      messages,
      Number(values.throughput),
      0,
      Number(values.settle) * 1000,
    )
    inProc.push(latency)
    if (throughput !== undefined) throughputs.push({ nodes: n, ...throughput })
    console.error(
      `in-process ${n} nodes: ${JSON.stringify(latency)} ${JSON.stringify(throughput)} (${Math.round((performance.now() - t0) / 1000)} s)`,
    )
  }
  const largest = Math.max(...sizes)
  const churn = (await inProcess(largest, messages, 0, 0.1, Number(values.settle) * 1000)).latency
  console.error(`in-process ${largest} nodes, 10% killed: ${JSON.stringify(churn)}`)
  const cross = []
  for (const [processes, per] of [
    [10, 1],
    [10, 5],
  ] as const) {
    const r = await crossProcess(processes, per, messages)
    cross.push(r)
    console.error(`cross-process ${processes}x${per}: ${JSON.stringify(r)}`)
  }
  const report = {
    bench: 'gossip',
    date: new Date().toISOString(),
    node: process.version,
    topology: 'ring + 2 random chords per node',
    latency: 'publish -> last subscriber, 1 KiB every 50 ms from one publisher',
    inProcess: inProc,
    throughput1KiB: throughputs,
    inProcessChurn10Percent: churn,
    crossProcessLoopback: cross,
  }
  const dir = join(here, 'results')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'gossip.json'), `${JSON.stringify(report, null, 2)}\n`)
  writeFileSync(
    join(dir, 'gossip.svg'),
    lineChart('Gossip delivery to the last subscriber (1 KiB)', 'nodes', 'ms', [
      { name: 'in-process median', points: inProc.map((r) => [r.nodes, r.medianMs]) },
      { name: 'in-process p99', points: inProc.map((r) => [r.nodes, r.p99Ms]) },
      { name: 'processes median', points: cross.map((r) => [r.nodes, r.medianMs]) },
      { name: 'processes p99', points: cross.map((r) => [r.nodes, r.p99Ms]) },
    ]),
  )
  console.log(JSON.stringify(report, null, 2))
}
