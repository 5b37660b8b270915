/**
 * The protocol-level DHT part of `bench sim` (`dht-proto`): N nodes of the real kad-dht over
 * in-process links (testing/sim KadFabric: Lateral's kad-dht settings, libp2p's transport,
 * encryption, muxer and identify replaced), where the whole network layer (sim-dht.ts) stops at a
 * few hundred nodes per process. Same script and measures as sim-dht.ts: join in waves, provide,
 * kill shares without warning, then from live nodes findPeer of live peers (a walk, useCache
 * false), how many of the true 20 closest live peers a walk returns, hops and latency; provider
 * records as shares die, after every original record holder died, and after a reprovide.
 */
import { randomBytes } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  closestTo,
  Distribution,
  KadFabric,
  type KadNode,
  kadIdOfKey,
  LoopLag,
  memoryNow,
  Ratio,
  sample,
} from '../../src/testing/sim/index.ts'
import { addErrors, askForProvider, closestWalk, findPeerWalk, withDeadline } from './dht-walks.ts'

export interface DhtProtoInit {
  nodes: number
  /** Cumulative shares killed at random (providers spared), measured after each step. */
  killSteps: number[]
  lookups: number
  seed: number
  latencyMs: [number, number]
  /** Bootstrap peers each joining node dials. */
  bootstrapPeers: number
  /** Provided CIDs, each by one node. */
  cids: number
  /** Per-lookup deadline, ms. */
  lookupTimeoutMs: number
  /** Longest wait for a quiet network after the build (settled()), ms. */
  settleMs: number
  /** kad-dht's minimum RPC timeout, ms; Lateral's default (dht.rpcMinTimeoutMs) when undefined. */
  rpcMinTimeoutMs?: number
  /** kad-dht's maximum RPC timeout, ms; Lateral's default (dht.rpcMaxTimeoutMs) when undefined. */
  rpcMaxTimeoutMs?: number
  log: (line: string) => void
}

interface Provided {
  cid: CID
  provider: KadNode
  /** The 20 live nodes closest to the CID's key when it was provided: where its records went. */
  holders: KadNode[]
}

const K = 20

const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits

export async function dhtProtoRun(init: DhtProtoInit) {
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const lag = new LoopLag().start()
  const sim = await KadFabric.create(0, {
    seed: init.seed,
    latencyMs: init.latencyMs,
    ...(init.rpcMinTimeoutMs === undefined ? {} : { rpcMinTimeoutMs: init.rpcMinTimeoutMs }),
    ...(init.rpcMaxTimeoutMs === undefined ? {} : { rpcMaxTimeoutMs: init.rpcMaxTimeoutMs }),
  })
  try {
    await join(sim, init, t0)
    const buildCpu = process.cpuUsage(cpu0)
    const build = {
      wallSeconds: Math.round((performance.now() - t0) / 1000),
      cpuSeconds: round((buildCpu.user + buildCpu.system) / 1e6, 1),
      memory: memoryNow(),
      eventLoopLag: lag.stop(),
      routingTableSize: tableSizes(sim),
    }
    init.log(`  built ${init.nodes}: ${JSON.stringify(build)}`)
    // Records are provided, and everything measured, once the build's burst is over.
    const settle = await settled(init)
    init.log(`  settled: ${JSON.stringify(settle)}`)
    const provided = await provide(sim, init)
    const steps = []
    for (const share of init.killSteps) {
      const target = Math.round(share * init.nodes)
      const spared = new Set(provided.map((p) => p.provider))
      const candidates = sim.live().filter((n) => !spared.has(n))
      const killed = sim.nodes.length - sim.live().length
      await Promise.all(sample(candidates, target - killed, sim.random).map((n) => sim.kill(n.index)))
      const step = {
        killedShare: share,
        ...(await measure(sim, init)),
        providers: await findProviders(sim, provided, init),
      }
      steps.push(step)
      init.log(`  ${init.nodes} nodes, ${Math.round(share * 100)}% killed: ${JSON.stringify(step)}`)
    }
    return { nodes: init.nodes, build, settle, steps, providers: await holdersDie(sim, provided, init) }
  } finally {
    await sim.stop()
  }
}

/**
 * Wait until the network is quiet before measuring: a thousand nodes joined within minutes leave
 * kad-dht busy for a while (bucket-full pings, the last waves' self walks), a burst a real
 * network spreads over its lifetime. Quiet: the event loop's p99 lag under 100 ms over a 5 s
 * window, or `settleMs` passed (then the figures say so through their own lag columns).
 */
async function settled(init: DhtProtoInit): Promise<{ seconds: number; lastWindowLag: ReturnType<LoopLag['stop']> }> {
  const t0 = performance.now()
  for (;;) {
    const lag = new LoopLag().start()
    await new Promise((resolve) => setTimeout(resolve, 5_000))
    const window = lag.stop()
    const seconds = Math.round((performance.now() - t0) / 1000)
    if (window.p99Ms < 100 || performance.now() - t0 >= init.settleMs) return { seconds, lastWindowLag: window }
  }
}

/**
 * Join in waves: each new node dials a few earlier ones (its bootstrap list), then runs the self
 * lookup kad-dht runs at start, which fills its table and makes it known. A wave is at most as
 * large as the network it joins (and 50), as in sim-dht.ts.
 */
async function join(sim: KadFabric, init: DhtProtoInit, t0: number): Promise<void> {
  for (let i = 0; i < init.nodes; ) {
    const joined = sim.nodes.length
    const wave = Math.min(50, Math.max(init.bootstrapPeers + 1, joined), init.nodes - i)
    i += wave
    const batch: KadNode[] = []
    for (let j = 0; j < wave; j++) batch.push(await sim.add())
    await Promise.all(
      batch.map(async (n) => {
        const earlier = joined === 0 ? batch.filter((m) => m !== n) : sim.nodes.slice(0, joined)
        for (const m of sample(earlier, init.bootstrapPeers, sim.random)) {
          await sim.connect(n.index, m.index).catch(() => {})
        }
      }),
    )
    const walks = new Distribution()
    await Promise.all(
      batch.map((n) =>
        withDeadline(init.lookupTimeoutMs, async (signal) => {
          const started = performance.now()
          for await (const _ of n.dht.closestPeers(base58btc.baseDecode(n.peerId), { signal })) {
            // drain
          }
          walks.add(performance.now() - started)
        }),
      ),
    )
    if (Math.floor(sim.nodes.length / 250) > Math.floor(joined / 250) || sim.nodes.length === init.nodes) {
      init.log(
        `  joined ${sim.nodes.length} (${Math.round((performance.now() - t0) / 1000)} s; last self walks ${JSON.stringify(walks.summary(0))}; ${JSON.stringify(memoryNow())})`,
      )
    }
  }
}

function tableSizes(sim: KadFabric) {
  const sizes = new Distribution()
  for (const n of sim.live()) sizes.add(n.dht.dht().routingTableSize)
  return sizes.summary(0)
}

/** `init.cids` nodes each provide one CID; its holders are the 20 live nodes then closest to it. */
async function provide(sim: KadFabric, init: DhtProtoInit): Promise<Provided[]> {
  const providers = sample(sim.nodes, init.cids, sim.random)
  const provided: Provided[] = []
  for (const provider of providers) {
    const cid = CID.createV1(raw.code, await sha256.digest(randomBytes(32)))
    const others = sim.live().filter((n) => n !== provider)
    const nearest = new Set(closestTo(kadIdOfKey(cid.multihash.bytes), others, K))
    provided.push({ cid, provider, holders: others.filter((n) => nearest.has(n.peerId)) })
  }
  await Promise.all(
    provided.map(({ cid, provider }) =>
      withDeadline(init.lookupTimeoutMs, (signal) => provider.dht.provide(cid.toString(), { signal })),
    ),
  )
  return provided
}

/** findPeer and closest-peers walks between random live nodes. */
async function measure(sim: KadFabric, init: DhtProtoInit) {
  const live = sim.live()
  const lag = new LoopLag().start()
  const cpu0 = process.cpuUsage()
  const wall0 = performance.now()
  const found = new Ratio()
  const hops = new Distribution()
  const latency = new Distribution()
  const overlap = new Distribution()
  const returned = new Distribution()
  const closestLatency = new Distribution()
  const histogram: Record<string, number> = {}
  const queries = { sent: 0, failed: 0, failuresByError: {} as Record<string, number> }
  /** The closestPeers walks' requests: a live peer's answer that came too late is an error here. */
  const walks = { sent: 0, answered: 0, errors: {} as Record<string, number> }
  const jobs = Array.from({ length: init.lookups }, () => {
    const [from, to] = sample(live, 2, sim.random) as [KadNode, KadNode]
    return { from, to, key: randomBytes(32) }
  })
  // A few lookups at a time, as a node's users would issue them.
  for (let i = 0; i < jobs.length; i += 20) {
    await Promise.all(
      jobs.slice(i, i + 20).map(async ({ from, to, key }) => {
        const walk = await findPeerWalk(from.dht, to.peerId, init.lookupTimeoutMs)
        found.record(walk.found)
        queries.sent += walk.trace.sent
        queries.failed += walk.trace.failed
        addErrors(queries.failuresByError, walk.trace)
        if (walk.found) {
          latency.add(walk.ms)
          hops.add(walk.hops)
          histogram[walk.hops] = (histogram[walk.hops] ?? 0) + 1
        }
        // The walk never returns the asking node itself.
        const others = live.filter((n) => n !== from)
        const truth = new Set(closestTo(kadIdOfKey(key), others, K))
        const closest = await closestWalk(from.dht, key, init.lookupTimeoutMs)
        const got = closest.peers
        walks.sent += closest.trace.sent
        walks.answered += closest.trace.answered
        addErrors(walks.errors, closest.trace)
        closestLatency.add(closest.ms)
        overlap.add(got.filter((p) => truth.has(p)).length)
        returned.add(got.length)
      }),
    )
  }
  const cpu = process.cpuUsage(cpu0)
  return {
    nodes: sim.nodes.length,
    killed: sim.nodes.length - live.length,
    findPeer: { success: round(found.value, 4), hops: hops.summary(2), latencyMs: latency.summary() },
    hopsHistogram: histogram,
    closest: {
      meanOf20: round(overlap.mean()),
      p10Of20: overlap.percentile(10),
      minOf20: overlap.percentile(0),
      returnedMean: round(returned.mean()),
      latencyMs: closestLatency.summary(),
      sentPerWalk: round(walks.sent / init.lookups, 1),
      answeredPerWalk: round(walks.answered / init.lookups, 1),
      failuresByError: walks.errors,
    },
    queries: {
      sentPerFindPeer: round(queries.sent / init.lookups, 1),
      failedPerFindPeer: round(queries.failed / init.lookups, 1),
      failuresByError: queries.failuresByError,
    },
    memory: memoryNow(),
    eventLoopLag: lag.stop(),
    /** Process CPU time over wall time while the lookups ran (1 = one core busy). */
    cpuShareOfOneCore: round((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)),
  }
}

/** Each CID looked up by 3 random live nodes other than its provider: is the provider named? */
async function findProviders(sim: KadFabric, provided: Provided[], init: DhtProtoInit) {
  const ok = new Ratio()
  const cidsFound = new Ratio()
  const hops = new Distribution()
  const latency = new Distribution()
  await Promise.all(
    provided.map(async ({ cid, provider }) => {
      const askers = sample(
        sim.live().filter((n) => n !== provider),
        3,
        sim.random,
      )
      const results = await Promise.all(
        askers.map(async (asker) => {
          const answer = await askForProvider(asker.dht, cid.toString(), provider.peerId, init.lookupTimeoutMs)
          ok.record(answer.found)
          if (answer.ms !== undefined) latency.add(answer.ms)
          if (answer.hops !== undefined) hops.add(answer.hops)
          return answer.found
        }),
      )
      cidsFound.record(results.some((f) => f))
    }),
  )
  return {
    lookupsFound: round(ok.value, 4),
    lookups: ok.total,
    /** CIDs that at least one of their 3 lookups found. */
    cidsFound: cidsFound.ok,
    cids: provided.length,
    /** Of each CID's 20 original record holders, how many are dead now (mean over CIDs). */
    holdersDeadMean: round(
      provided.reduce((s, p) => s + p.holders.filter((h) => !h.alive).length, 0) / provided.length,
      1,
    ),
    hops: hops.summary(2),
    latencyMs: latency.summary(),
  }
}

/** Every CID's original record holders still alive are killed; lookups; a reprovide; lookups. */
async function holdersDie(sim: KadFabric, provided: Provided[], init: DhtProtoInit) {
  const providers = new Set(provided.map((p) => p.provider))
  const victims = new Set(provided.flatMap((p) => p.holders.filter((h) => h.alive && !providers.has(h))))
  await Promise.all([...victims].map((n) => sim.kill(n.index)))
  const killedShare = round((sim.nodes.length - sim.live().length) / sim.nodes.length)
  const afterHoldersDied = await findProviders(sim, provided, init)
  init.log(
    `  providers after every original record holder died (${victims.size} more killed): ${JSON.stringify(afterHoldersDied)}`,
  )
  await Promise.all(
    provided.map(({ cid, provider }) =>
      withDeadline(init.lookupTimeoutMs, (signal) => provider.dht.provide(cid.toString(), { signal })),
    ),
  )
  const afterReprovide = await findProviders(sim, provided, init)
  init.log(`  providers after a reprovide: ${JSON.stringify(afterReprovide)}`)
  return { holdersKilled: victims.size, killedShareAfter: killedShare, afterHoldersDied, afterReprovide }
}
