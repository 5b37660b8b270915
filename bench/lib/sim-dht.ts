/**
 * The DHT part of `bench sim`: N nodes of Lateral's network layer (testing/sim, kind `net`) over
 * simulated links; they join, provide, then a share of them is killed without warning, and
 * lookups are measured from live nodes: findPeer of live peers (a DHT walk, not the peer store),
 * how many of the true 20 closest live peers a walk returns, hops and latency, and provider
 * records after their holders died and after a reprovide.
 */
import { randomBytes } from 'node:crypto'
import { loadavg } from 'node:os'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  closestTo,
  Distribution,
  kadIdOfKey,
  LoopLag,
  memoryNow,
  Ratio,
  SimNetwork,
  type SimNode,
  sample,
} from '../../src/testing/sim/index.ts'
import { addErrors, askForProvider, closestWalk, findPeerWalk, withDeadline } from './dht-walks.ts'

export interface DhtRunInit {
  nodes: number
  /** Cumulative shares killed, measured after each step (e.g. [0, 0.1, 0.2, 0.3]). */
  killSteps: number[]
  lookups: number
  seed: number
  latencyMs: [number, number]
  /** Bootstrap peers each joining node dials. */
  bootstrapPeers: number
  /** Provided CIDs (each by one node) whose record holders are killed. */
  cids: number
  /** Per-lookup deadline, ms. */
  lookupTimeoutMs: number
  /** NetInit fields over the defaults (e.g. encrypters). */
  net?: Record<string, unknown>
  log: (line: string) => void
}

export interface DhtStep {
  nodes: number
  killedShare: number
  killed: number
  findPeer: {
    success: number
    hops: ReturnType<Distribution['summary']>
    latencyMs: ReturnType<Distribution['summary']>
  }
  closest: {
    meanOf20: number
    p10Of20: number
    minOf20: number
    returnedMean: number
    sentPerWalk: number
    answeredPerWalk: number
    failuresByError: Record<string, number>
    latencyMs: ReturnType<Distribution['summary']>
  }
  hopsHistogram: Record<string, number>
  queries: {
    sentPerLookup: number
    failedPerLookup: number
    abortedPerLookup: number
    failuresByError: Record<string, number>
  }
  memory: { rssMiB: number; heapUsedMiB: number }
  /** The one event loop while the step's lookups ran: was the simulation CPU-bound? */
  eventLoopLag: { p50Ms: number; p99Ms: number; maxMs: number }
  /** Process CPU time over wall time while the lookups ran (1 = one core busy). */
  cpuShareOfOneCore: number
  /** Peers banned by live nodes' peer guards (honest peers all: a ban here is a false positive). */
  bans: number
  /** The machine's load average (1, 5, 15 min) at the step's end: other jobs share the 2 cores. */
  loadAverage: number[]
}

const K = 20

async function cidOf(bytes: Uint8Array): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(bytes))
}

export async function dhtRun(init: DhtRunInit) {
  const { log } = init
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const lag = new LoopLag().start()
  const sim = await SimNetwork.create(0, {
    kind: 'net',
    seed: init.seed,
    latencyMs: init.latencyMs,
    // Connections come from the DHT itself here, not from discovery (there is none in the sim).
    net: { autoDialTarget: 0, ...init.net },
  })
  try {
    // Join in waves: a node dials a few earlier nodes (its bootstrap list) and runs the self
    // lookup kad-dht runs after start (query-self), which fills its table and makes it known.
    // A wave is at most as large as the network it joins, so no earlier node takes more than a
    // few new connections at once (libp2p refuses inbound upgrades past maxIncomingPending).
    for (let i = 0; i < init.nodes; ) {
      const joined = sim.nodes.length
      const wave = Math.min(50, Math.max(init.bootstrapPeers + 1, joined), init.nodes - i)
      i += wave
      const waveStarted = performance.now()
      const batch = await Promise.all(Array.from({ length: wave }, () => sim.add()))
      await Promise.all(
        batch.map(async (n) => {
          // The first nodes know each other; later ones dial earlier ones.
          const earlier = joined === 0 ? batch.filter((m) => m !== n) : sim.nodes.slice(0, joined)
          for (const m of sample(earlier, init.bootstrapPeers, sim.random)) {
            await sim.connect(n.index, m.index).catch(() => {})
          }
        }),
      )
      const dialled = performance.now()
      const walks = new Distribution()
      await Promise.all(
        batch.map((n) =>
          withDeadline(init.lookupTimeoutMs, async (signal) => {
            const started = performance.now()
            for await (const _ of n.net.closestPeers(selfKey(n), { signal })) {
              // drain
            }
            walks.add(performance.now() - started)
          }),
        ),
      )
      log(
        `  joined ${sim.nodes.length} (${Math.round((performance.now() - t0) / 1000)} s; dials ${Math.round(dialled - waveStarted)} ms, self walks ${JSON.stringify(walks.summary())}; bans ${bansIn(sim)}; ${JSON.stringify(memoryNow())})`,
      )
    }
    const buildSeconds = Math.round((performance.now() - t0) / 1000)
    const buildCpu = process.cpuUsage(cpu0)
    const buildCpuSeconds = Math.round((buildCpu.user + buildCpu.system) / 1e5) / 10
    const builtMemory = memoryNow()
    const buildLag = lag.stop()
    const tables = new Distribution()
    for (const n of sim.nodes) tables.add(n.net.dht().routingTableSize)
    log(
      `  built ${init.nodes} in ${buildSeconds} s (${buildCpuSeconds} CPU s); tables ${JSON.stringify(tables.summary())}; ${JSON.stringify(builtMemory)}`,
    )

    // Provider records: a few nodes provide one CID each.
    const providers = sample(sim.nodes, init.cids, sim.random)
    const cids: Array<{ cid: CID; provider: SimNode }> = []
    for (const p of providers) cids.push({ cid: await cidOf(randomBytes(32)), provider: p })
    await Promise.all(
      cids.map(({ cid, provider }) =>
        withDeadline(init.lookupTimeoutMs, (signal) => provider.net.provide(cid.toString(), { signal })),
      ),
    )

    const steps: DhtStep[] = []
    let providerResult: Record<string, unknown> | undefined
    for (const share of init.killSteps) {
      const target = Math.round(share * init.nodes)
      const killed = sim.nodes.filter((n) => !n.alive).length
      const protectedSet = new Set(cids.map((c) => c.provider))
      const candidates = sim.live().filter((n) => !protectedSet.has(n))
      await Promise.all(sample(candidates, target - killed, sim.random).map((n) => sim.kill(n.index)))
      const step = await measure(sim, init)
      steps.push({ ...step, killedShare: share })
      log(`  ${init.nodes} nodes, ${Math.round(share * 100)}% killed: ${JSON.stringify(step)}`)
    }
    // Providers' record holders die: for each CID the live nodes closest to its key (those the
    // provide stored the record on, as far as they were still alive) are killed, then lookups;
    // then the provider provides again (a reprovide) and lookups again.
    if (cids.length > 0) providerResult = await providerRecords(sim, cids, init)
    return {
      nodes: init.nodes,
      buildSeconds,
      buildCpuSeconds,
      memoryAfterBuild: builtMemory,
      memoryPerNodeMiB: Math.round((builtMemory.rssMiB / init.nodes) * 100) / 100,
      eventLoopLagDuringBuild: buildLag,
      routingTableSize: tables.summary(),
      steps,
      providers: providerResult,
      fabric: { ...sim.fabric.stats },
    }
  } finally {
    await sim.stop()
  }
}

function bansIn(sim: SimNetwork): number {
  return sim.live().reduce((sum, n) => sum + n.net.bans().length, 0)
}

/** kad-dht's self-query walks towards the node's own peer ID multihash. */
function selfKey(n: SimNode): Uint8Array {
  return base58btc.baseDecode(n.peerId)
}

async function measure(sim: SimNetwork, init: DhtRunInit): Promise<Omit<DhtStep, 'killedShare'>> {
  const live = sim.live()
  const lag = new LoopLag().start()
  const cpu0 = process.cpuUsage()
  const wall0 = performance.now()
  const found = new Ratio()
  const hops = new Distribution()
  const latency = new Distribution()
  const overlap = new Distribution()
  const returned = new Distribution()
  let closestSent = 0
  let closestAnswered = 0
  const closestErrors: Record<string, number> = {}
  const closestLatency = new Distribution()
  const histogram: Record<string, number> = {}
  let sent = 0
  let failed = 0
  let aborted = 0
  const failuresByError: Record<string, number> = {}
  const jobs = Array.from({ length: init.lookups }, () => {
    const [from, to] = sample(live, 2, sim.random) as [SimNode, SimNode]
    return { from, to, key: randomBytes(32) }
  })
  // A few lookups at a time, as a node's users would issue them.
  for (let i = 0; i < jobs.length; i += 20) {
    await Promise.all(
      jobs.slice(i, i + 20).map(async ({ from, to, key }) => {
        const walk = await findPeerWalk(from.net, to.peerId, init.lookupTimeoutMs)
        found.record(walk.found)
        sent += walk.trace.sent
        failed += walk.trace.failed
        aborted += walk.trace.cancelled
        addErrors(failuresByError, walk.trace)
        if (walk.found) {
          latency.add(walk.ms)
          hops.add(walk.hops)
          histogram[walk.hops] = (histogram[walk.hops] ?? 0) + 1
        }
        // The walk never returns the asking node itself.
        const truth = new Set(
          closestTo(
            kadIdOfKey(key),
            live.filter((n) => n !== from),
            K,
          ),
        )
        const closest = await closestWalk(from.net, key, init.lookupTimeoutMs)
        closestLatency.add(closest.ms)
        overlap.add(closest.peers.filter((p) => truth.has(p)).length)
        returned.add(closest.peers.length)
        closestSent += closest.trace.sent
        closestAnswered += closest.trace.answered
        addErrors(closestErrors, closest.trace)
      }),
    )
  }
  const cpu = process.cpuUsage(cpu0)
  const cpuShareOfOneCore = Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - wall0)) * 100) / 100
  const eventLoopLag = lag.stop()
  return {
    nodes: sim.nodes.length,
    killed: sim.nodes.length - live.length,
    eventLoopLag,
    cpuShareOfOneCore,
    bans: bansIn(sim),
    loadAverage: loadavg().map((x) => Math.round(x * 10) / 10),
    findPeer: {
      success: Number(found.value.toFixed(4)),
      hops: hops.summary(2),
      latencyMs: latency.summary(),
    },
    closest: {
      meanOf20: Math.round(overlap.mean() * 100) / 100,
      p10Of20: overlap.percentile(10),
      minOf20: overlap.percentile(0),
      returnedMean: Math.round(returned.mean() * 100) / 100,
      // The walk's requests: how many peers were asked, answered, and why the others did not.
      sentPerWalk: Math.round((closestSent / init.lookups) * 10) / 10,
      answeredPerWalk: Math.round((closestAnswered / init.lookups) * 10) / 10,
      failuresByError: closestErrors,
      latencyMs: closestLatency.summary(),
    },
    hopsHistogram: histogram,
    memory: memoryNow(),
    queries: {
      sentPerLookup: Math.round((sent / init.lookups) * 10) / 10,
      failedPerLookup: Math.round((failed / init.lookups) * 10) / 10,
      // AbortError: the walk ended first, or a dial or request was aborted by its own timeout.
      abortedPerLookup: Math.round((aborted / init.lookups) * 10) / 10,
      failuresByError,
    },
  }
}

async function providerRecords(sim: SimNetwork, cids: Array<{ cid: CID; provider: SimNode }>, init: DhtRunInit) {
  const holdersKilled: number[] = []
  for (const { cid, provider } of cids) {
    const key = kadIdOfKey(cid.multihash.bytes)
    const holders = closestTo(
      key,
      sim.live().filter((n) => n !== provider),
      K,
    )
    const victims = sim.nodes.filter((n) => holders.includes(n.peerId) && n !== provider)
    // Half the record holders die: the closest half, the ones a lookup reaches first.
    const half = victims.slice(0, Math.ceil(victims.length / 2))
    await Promise.all(half.map((n) => sim.kill(n.index)))
    holdersKilled.push(half.length)
  }
  const lookup = async () => {
    const ok = new Ratio()
    const hops = new Distribution()
    const latency = new Distribution()
    const jobs = cids.map(({ cid, provider }) => ({
      cid,
      provider,
      askers: sample(
        sim.live().filter((n) => n !== provider),
        3,
        sim.random,
      ),
    }))
    await Promise.all(
      jobs.map(({ cid, provider, askers }) =>
        Promise.all(
          askers.map(async (asker) => {
            const answer = await askForProvider(asker.net, cid.toString(), provider.peerId, init.lookupTimeoutMs)
            ok.record(answer.found)
            if (answer.ms !== undefined) latency.add(answer.ms)
            if (answer.hops !== undefined) hops.add(answer.hops)
          }),
        ),
      ),
    )
    return {
      found: Number(ok.value.toFixed(4)),
      lookups: ok.total,
      hops: hops.summary(2),
      latencyMs: latency.summary(),
    }
  }
  const afterHoldersDied = await lookup()
  init.log(`  providers after half their record holders died: ${JSON.stringify(afterHoldersDied)}`)
  await Promise.all(
    cids.map(({ cid, provider }) =>
      withDeadline(init.lookupTimeoutMs, (signal) => provider.net.provide(cid.toString(), { signal })),
    ),
  )
  const afterReprovide = await lookup()
  init.log(`  providers after a reprovide: ${JSON.stringify(afterReprovide)}`)
  return {
    cids: cids.length,
    recordHoldersKilledPerCid: holdersKilled,
    afterHoldersDied,
    afterReprovide,
  }
}
