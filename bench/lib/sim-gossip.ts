/**
 * The gossip part of `bench sim`, in one process over simulated links: N nodes join a topic
 * (sparse random graph, each node dials `degree` others), one publishes 1 KiB every 50 ms, and
 * during the run a share of the nodes is killed without warning and restarted a few seconds
 * later (they rejoin: dial `degree` live nodes, subscribe again). Delivery is counted for every
 * subscriber that was up from well before a message was published until after it (a node that
 * rejoined counts once it has been back `settleMs`); latency is per delivery and per message to
 * its last subscriber.
 */
import { spawn } from 'node:child_process'
import { loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { wireTopic } from '../../src/messaging/topics.ts'
import { Distribution, LoopLag, memoryNow, SimNetwork, type SimNode, sample } from '../../src/testing/sim/index.ts'
import { waitFor } from '../../src/testing/wait.ts'
import { profiled } from './cpu-profile.ts'
import { now, payload, sparseEdges } from './gossip-net.ts'
import { cpuSeconds, peakRssMiB } from './proc.ts'

const here = dirname(fileURLToPath(import.meta.url))

export interface GossipRunInit {
  nodes: number
  kind: 'net' | 'full'
  latencyMs: [number, number]
  churn: number
  messages: number
  intervalMs: number
  degree: number
  seed: number
  /** A rejoined node counts as a subscriber this long after it is back, ms. */
  settleMs: number
  /** A killed node stays down this long, ms. */
  downMs: number
  /** Write a CPU profile of the publishing stretch here and summarise it. */
  profile?: string
  log: (line: string) => void
}

const TOPIC = 'sim-bench'

/** Subscribe a node and record receipt times of numbered messages. */
function listen(n: SimNode, sink: (index: number, at: number) => void): void {
  if (n.node !== undefined) {
    n.node.messaging.join(TOPIC)
    n.node.messaging.addEventListener('topic:message', (evt) => {
      const b = evt.detail.body
      sink(new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0), now())
    })
    return
  }
  n.net.pubsub.subscribe(wireTopic(TOPIC))
  n.net.addEventListener('pubsub:message', (evt) => {
    const b = evt.detail.data
    sink(new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0), now())
  })
}

async function publish(n: SimNode, index: number): Promise<void> {
  if (n.node !== undefined) {
    await n.node.messaging.publish(TOPIC, payload(index, 1024), { type: 'application/octet-stream' })
  } else {
    await n.net.pubsub.publish(wireTopic(TOPIC), payload(index, 1024))
  }
}

export async function gossipRun(init: GossipRunInit) {
  const t0 = performance.now()
  const sim = await SimNetwork.create(init.nodes, {
    kind: init.kind,
    seed: init.seed,
    latencyMs: init.latencyMs,
    net: { autoDialTarget: 0, encrypters: ['noise'] },
    config: { connections: { autoDialTarget: 0 }, encrypters: ['noise'] },
  })
  try {
    await sim.connectRandom(init.degree)
    // Receipts per node incarnation: index -> time.
    const receipts = sim.nodes.map(() => new Map<number, number>())
    /** When each node was (last) up and subscribed from, and down from. */
    const upSince = sim.nodes.map(() => 0)
    const downAt = sim.nodes.map(() => Number.POSITIVE_INFINITY)
    for (const n of sim.nodes) listen(n, (i, at) => receipts[n.index]?.set(i, at))
    const minMesh = init.kind === 'full' ? 3 : 4
    await waitFor(() => sim.nodes.every((n) => n.net.pubsub.meshPeers(wireTopic(TOPIC)).length >= minMesh), {
      what: 'gossipsub meshes',
      timeoutMs: 120_000,
      intervalMs: 200,
    }).catch((err: Error) => init.log(`  ${err.message}`))
    const buildSeconds = Math.round((performance.now() - t0) / 1000)
    const memory = memoryNow()
    const lag = new LoopLag().start()
    const publisher = sim.node(0)
    const runMs = init.messages * init.intervalMs
    // Churn: victims die at seeded times through the run and come back downMs later.
    const victims = sample(sim.nodes.slice(1), Math.round(init.churn * init.nodes), sim.random)
    const churn = victims.map((v) => ({ v, at: sim.random() * Math.max(0, runMs - init.downMs) }))
    const churning = churn.map(async ({ v, at }) => {
      await new Promise((r) => setTimeout(r, at))
      downAt[v.index] = now()
      await sim.kill(v.index)
      await new Promise((r) => setTimeout(r, init.downMs))
      await sim.restart(v.index)
      const peers = sample(
        sim.live().filter((m) => m !== v),
        init.degree,
        sim.random,
      )
      await Promise.all(peers.map((m) => sim.connect(v.index, m.index).catch(() => {})))
      const fresh = new Map<number, number>()
      receipts[v.index] = fresh
      listen(v, (i, t) => fresh.set(i, t))
      upSince[v.index] = now()
      downAt[v.index] = Number.POSITIVE_INFINITY
    })
    const published = new Map<number, number>()
    // Who was a subscriber for message k: up since settleMs before it (the whole run for
    // never-killed nodes) and not killed before it plus 2 s.
    const expected = (k: number) => {
      const at = published.get(k) as number
      return sim.nodes.filter(
        (n) =>
          n !== publisher &&
          n.alive &&
          (upSince[n.index] as number) <= at - init.settleMs &&
          (downAt[n.index] as number) > at + 2000,
      )
    }
    const { profile } = await profiled(init.profile, async () => {
      for (let k = 0; k < init.messages; k++) {
        published.set(k, now())
        await publish(publisher, k).catch(() => {})
        await new Promise((r) => setTimeout(r, init.intervalMs))
      }
      await Promise.all(churning)
      await waitFor(
        () => [...published.keys()].every((k) => expected(k).every((n) => receipts[n.index]?.has(k) === true)),
        { timeoutMs: 10_000, intervalMs: 100 },
      ).catch(() => {})
    })
    const loopLag = lag.stop()
    const perDelivery = new Distribution()
    const lastSubscriber = new Distribution()
    let delivered = 0
    let wanted = 0
    for (const [k, at] of published) {
      let last = 0
      for (const n of expected(k)) {
        wanted++
        const got = receipts[n.index]?.get(k)
        if (got === undefined) continue
        delivered++
        perDelivery.add(got - at)
        last = Math.max(last, got - at)
      }
      lastSubscriber.add(last)
    }
    return {
      nodes: init.nodes,
      kind: init.kind,
      latencyMs: init.latencyMs,
      churned: victims.length,
      messages: init.messages,
      delivery: Number((delivered / Math.max(1, wanted)).toFixed(4)),
      deliveries: { delivered, expected: wanted },
      perDeliveryMs: perDelivery.summary(),
      lastSubscriberMs: lastSubscriber.summary(),
      cdf: perDelivery.cdf(40),
      buildSeconds,
      memoryAfterBuild: memory,
      eventLoopLag: loopLag,
      ...(profile === undefined ? {} : { cpuProfile: profile }),
    }
  } finally {
    await sim.stop()
  }
}

/**
 * The same publisher and topic across real processes on 127.0.0.1 (TCP, whole Lateral nodes,
 * `perProcess` per process; bench/lib/gossip-peer.ts), no churn, no added latency: how a
 * deployment of one node per process behaves on this machine.
 */
export async function gossipProcesses(
  processes: number,
  perProcess: number,
  messages: number,
  log: (l: string) => void,
) {
  const peer = join(here, 'gossip-peer.ts')
  const t0 = performance.now()
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
    const started = performance.now()
    await Promise.all(children.map((_, p) => ask(p, { cmd: 'connect', edges: edges.get(p) ?? [] })))
    const connected = performance.now()
    const meshed = await Promise.all(children.map((_, p) => ask(p, { cmd: 'mesh', min: Math.min(3, n - 1) })))
    const processesShortOfMeshes = meshed.filter((m) => m.meshed !== true).length
    const buildSeconds = Math.round((performance.now() - t0) / 1000)
    const phases = {
      startSeconds: Math.round((started - t0) / 100) / 10,
      connectSeconds: Math.round((connected - started) / 100) / 10,
      meshSeconds: Math.round((performance.now() - connected) / 100) / 10,
    }
    log(`  built in ${buildSeconds} s ${JSON.stringify(phases)}`)
    const rss = children.map((c) => peakRssMiB(c.pid as number))
    await new Promise((r) => setTimeout(r, 2000))
    const cpu0 = children.map((c) => cpuSeconds(c.pid as number))
    const { published } = await ask(0, { cmd: 'publish', count: messages, intervalMs: 50, size: 1024 })
    await new Promise((r) => setTimeout(r, 2000))
    const cpu = children.reduce((s, c, i) => s + cpuSeconds(c.pid as number) - (cpu0[i] as number), 0)
    const receipts = new Map<number, Map<number, number>>()
    for (let p = 0; p < processes; p++) {
      for (const [node, index, at] of (await ask(p, { cmd: 'report' })).receipts as Array<[number, number, number]>) {
        const m = receipts.get(node) ?? new Map()
        m.set(index, at)
        receipts.set(node, m)
      }
    }
    const perDelivery = new Distribution()
    const lastSubscriber = new Distribution()
    let delivered = 0
    for (const [k, at] of published as Array<[number, number]>) {
      let last = 0
      for (let r = 1; r < n; r++) {
        const got = receipts.get(r)?.get(k)
        if (got === undefined) continue
        delivered++
        perDelivery.add(got - at)
        last = Math.max(last, got - at)
      }
      lastSubscriber.add(last)
    }
    const result = {
      processes,
      perProcess,
      nodes: n,
      messages,
      delivery: Number((delivered / (messages * (n - 1))).toFixed(4)),
      perDeliveryMs: perDelivery.summary(),
      lastSubscriberMs: lastSubscriber.summary(),
      cdf: perDelivery.cdf(40),
      buildSeconds,
      buildPhases: phases,
      processesShortOfMeshes,
      loadAverage: loadavg().map((x) => Math.round(x * 10) / 10),
      rssPerProcessMiB: Math.round(rss.reduce((a, b) => a + b, 0) / rss.length),
      cpuSecondsDuringPublish: Math.round(cpu * 10) / 10,
    }
    log(`  processes ${processes}x${perProcess}: ${JSON.stringify({ ...result, cdf: undefined })}`)
    return result
  } finally {
    for (const c of children) c.stdin?.write(`${JSON.stringify({ cmd: 'exit' })}\n`)
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)))
  }
}
