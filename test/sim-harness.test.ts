/**
 * The simulation harness itself (src/testing/sim, src/net/sim-fabric.ts, sim-transport.ts):
 * per-link latency and loss are applied, a partition blocks and heals, a killed node goes silent
 * and comes back with the same identity, and seeds make networks repeatable.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SimFabric } from '../src/net/index.ts'
import { closestTo, kadIdOfKey, QueryTrace, SimNetwork, seededRandom } from '../src/testing/sim/index.ts'
import { waitFor } from '../src/testing/wait.ts'

const FAST = { net: { encrypters: ['noise' as const], autoDialTarget: 0 } }

/** A ping that must not complete: rejects when its deadline passes, as the caller expects. */
async function pingFails(sim: SimNetwork, from: number, to: number, ms: number): Promise<boolean> {
  try {
    await sim.node(from).net.ping(sim.node(to).peerId, { signal: AbortSignal.timeout(ms) })
    return false
  } catch {
    return true
  }
}

describe('simulation harness', { timeout: 60_000 }, () => {
  it('delays every chunk by its link latency, both ways', async (t) => {
    const sim = await SimNetwork.create(2, { ...FAST, seed: 1, latencyMs: [60, 60] })
    t.after(() => sim.stop())
    await sim.connect(0, 1)
    const rtt = await sim.node(0).net.ping(sim.node(1).peerId)
    // One ping is a request and an answer: at least two one-way latencies.
    assert.ok(rtt >= 120, `round trip ${rtt} ms over 60 ms links`)
    assert.equal(sim.fabric.profile(sim.node(0).peerId, sim.node(1).peerId).latencyMs, 60)
  })

  it('retransmits lost chunks after the RTO and still delivers every byte in order', async (t) => {
    const sim = await SimNetwork.create(2, { ...FAST, seed: 2, loss: 0.3, rtoMs: 50 })
    t.after(() => sim.stop())
    await sim.connect(0, 1)
    for (let i = 0; i < 5; i++) await sim.node(0).net.ping(sim.node(1).peerId)
    assert.ok(sim.fabric.stats.retransmitted > 0, 'some chunks were lost and sent again')
    assert.ok(sim.fabric.stats.retransmitted < sim.fabric.stats.chunks)
  })

  it('a lost chunk costs the RTO, doubling with each further loss', () => {
    const always = new SimFabric({ rtoMs: 100, random: () => 0, link: () => ({ latencyMs: 10, loss: 1 }) })
    // Capped at 8 losses: 10 + 100 * (1 + 2 + ... + 128).
    assert.deepEqual(always.route('a', 'b', 1), { kind: 'deliver', delayMs: 10 + 100 * 255 })
    const once = seededRandom(3)
    const sometimes = new SimFabric({ rtoMs: 100, random: once, link: () => ({ latencyMs: 10, loss: 0.5 }) })
    const delays = Array.from({ length: 200 }, () => {
      const r = sometimes.route('a', 'b', 1)
      return r.kind === 'deliver' ? r.delayMs : -1
    })
    assert.ok(delays.includes(10) && delays.includes(110) && delays.includes(310))
    assert.equal(sometimes.stats.retransmitted, delays.filter((d) => d > 10).length)
  })

  it('a partition holds traffic and refuses new connections until it heals', async (t) => {
    const sim = await SimNetwork.create(3, { ...FAST, seed: 4 })
    t.after(() => sim.stop())
    await sim.connect(0, 1)
    await sim.node(0).net.ping(sim.node(1).peerId)
    sim.partition([[0], [1, 2]])
    assert.equal(await pingFails(sim, 0, 1, 500), true, 'no answer across the cut')
    await assert.rejects(sim.node(0).net.connect(sim.node(2).address, { signal: AbortSignal.timeout(500) }))
    // Inside one side, all is well.
    await sim.connect(1, 2)
    await sim.node(1).net.ping(sim.node(2).peerId)
    sim.heal()
    await sim.node(0).net.ping(sim.node(1).peerId)
    await sim.connect(0, 2)
  })

  it('a killed node goes silent without closing anything, and restarts with its identity', async (t) => {
    const sim = await SimNetwork.create(2, { ...FAST, seed: 5 })
    t.after(() => sim.stop())
    await sim.connect(0, 1)
    const peerId = sim.node(1).peerId
    await sim.kill(1)
    assert.equal(sim.node(1).alive, false)
    assert.equal(sim.live().length, 1)
    // Its peer still holds the connection: nothing told it (no close, no reset).
    assert.ok((await sim.node(0).net.connections()).some((c) => c.peerId === peerId))
    assert.equal(await pingFails(sim, 0, 1, 500), true)
    await sim.restart(1)
    assert.equal(sim.node(1).peerId, peerId)
    // The stale connection is dropped (as libp2p's connection monitor would, later) and redialled.
    await sim.node(0).net.disconnect(peerId)
    await sim.connect(0, 1)
    await sim.node(0).net.ping(peerId)
  })

  it('the same seed gives the same identities and link profiles', async (t) => {
    const a = await SimNetwork.create(3, { ...FAST, seed: 9, latencyMs: [10, 90] })
    t.after(() => a.stop())
    const b = await SimNetwork.create(3, { ...FAST, seed: 9, latencyMs: [10, 90] })
    t.after(() => b.stop())
    assert.deepEqual(
      a.nodes.map((n) => n.peerId),
      b.nodes.map((n) => n.peerId),
    )
    const p = (s: SimNetwork) => s.fabric.profile(s.node(0).peerId, s.node(2).peerId).latencyMs
    assert.equal(p(a), p(b))
    assert.ok(p(a) >= 10 && p(a) <= 90)
  })

  it('traces a DHT walk: who was asked, who answered, at how many hops the target was named', async (t) => {
    const sim = await SimNetwork.create(8, { ...FAST, seed: 6 })
    t.after(() => sim.stop())
    // Node 0 knows node 1 alone; node 1 knows everyone: the target is one hop away from 0.
    for (let i = 1; i < 8; i++) for (let j = i + 1; j < 8; j++) await sim.connect(i, j)
    await sim.connect(0, 1)
    await waitFor(() => sim.node(0).net.dht().routingTableSize >= 1 && sim.node(1).net.dht().routingTableSize >= 7, {
      what: 'routing tables',
    })
    const target = sim.node(7).peerId
    const trace = new QueryTrace()
    const addresses = await sim.node(0).net.findPeer(target, { useCache: false, onQuery: trace.onQuery })
    assert.ok(addresses.some((a) => a.startsWith('/memory/')))
    assert.ok(trace.sent >= 1 && trace.answered >= 1)
    assert.ok((trace.targetHops ?? 0) >= 1, `named at hop ${trace.targetHops}`)
    const key = new Uint8Array(32).fill(7)
    const found: string[] = []
    for await (const p of sim.node(3).net.closestPeers(key)) found.push(p)
    const truth = closestTo(
      kadIdOfKey(key),
      sim.nodes.filter((n) => n.index !== 3),
      3,
    )
    assert.ok(
      truth.every((p) => found.includes(p)),
      'the walk finds the closest peers of a small network',
    )
  })

  it('lean nodes (plaintext encrypter, no gossipsub) run the same DHT walk; plaintext stays off real transports', async (t) => {
    const sim = await SimNetwork.create(6, {
      seed: 8,
      net: {
        encrypters: ['plaintext'],
        autoDialTarget: 0,
        relayReservations: 0,
        lean: { pubsub: false, connectionMonitor: false, debugLoggers: false },
      },
    })
    t.after(() => sim.stop())
    for (let i = 1; i < 6; i++) await sim.connect(i, 0)
    await waitFor(() => sim.node(0).net.dht().routingTableSize >= 5, { what: 'routing table of node 0' })
    const addresses = await sim.node(1).net.findPeer(sim.node(5).peerId, { useCache: false })
    assert.ok(addresses.some((a) => a.startsWith('/memory/')))
    // No gossipsub: subscribing is refused rather than silently dropped.
    assert.throws(() => sim.node(1).net.pubsub.subscribe('t'), /without gossipsub/)
    const { createNet } = await import('../src/net/index.ts')
    const { MemoryDatastore } = await import('datastore-core')
    const { silentLogger } = await import('../src/core/logger.ts')
    const tcp = createNet(
      {
        seed: new Uint8Array(32).fill(9),
        listen: ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: [],
        mdns: false,
        dhtMode: 'server',
        encrypters: ['plaintext'],
        maxConnections: 10,
        maxIncomingPendingConnections: 10,
        dialTimeoutMs: 1000,
        autoDialTarget: 0,
        metrics: false,
      },
      { datastore: new MemoryDatastore(), logger: silentLogger },
    )
    await assert.rejects(tcp.start(), /plaintext/)
  })
})
