/**
 * The protocol-level DHT simulation (src/testing/sim/kad-fabric.ts over src/net/kad-wire.ts):
 * real kad-dht nodes on in-process links find each other, a walk returns the true closest peers,
 * and killed nodes stop answering while lookups among the living still succeed.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { base58btc } from 'multiformats/bases/base58'
import { closestTo, KadFabric, kadIdOfKey, QueryTrace, sample } from '../src/testing/sim/index.ts'

const N = 40
const DEADLINE_MS = 40_000

async function closest(sim: KadFabric, from: number, key: Uint8Array): Promise<string[]> {
  const got: string[] = []
  for await (const p of sim.node(from).dht.closestPeers(key, { signal: AbortSignal.timeout(DEADLINE_MS) })) got.push(p)
  return got
}

describe('KadFabric: real kad-dht over in-process links', { timeout: 180_000 }, () => {
  let sim: KadFabric

  before(async () => {
    // Short links keep the test fast; the one-second RPC floor makes walks past dead peers quick.
    sim = await KadFabric.create(N, { seed: 5, latencyMs: [2, 10], rpcMinTimeoutMs: 1000 })
    for (let i = 1; i < N; i++) {
      for (const m of sample(sim.nodes.slice(0, i), Math.min(3, i), sim.random)) await sim.connect(i, m.index)
    }
    // The self lookup kad-dht runs at start: it fills each table and makes the node known.
    for (let i = 0; i < N; i += 10) {
      await Promise.all(sim.nodes.slice(i, i + 10).map((n) => closest(sim, n.index, base58btc.baseDecode(n.peerId))))
    }
  })

  after(() => sim.stop())

  it('finds a peer by walking the DHT, not from its cache', async () => {
    for (const [from, to] of [
      [0, 39],
      [17, 3],
      [38, 21],
    ] as const) {
      const trace = new QueryTrace()
      const addrs = await sim.node(from).dht.findPeer(sim.node(to).peerId, {
        useCache: false,
        onQuery: trace.onQuery,
        signal: AbortSignal.timeout(DEADLINE_MS),
      })
      const own = `/memory/kad-5-${to}`
      assert.ok(
        addrs.some((a) => a === own || a.startsWith(`${own}/`)),
        `${from} found ${to}: ${addrs}`,
      )
      assert.ok(trace.sent > 0, 'the lookup asked the network')
    }
  })

  it('returns the true 20 closest peers (18 at least) when none is dead', async () => {
    for (const [from, label] of [
      [4, 'a'],
      [25, 'b'],
      [33, 'c'],
    ] as const) {
      const key = new TextEncoder().encode(`key-${label}`)
      const truth = closestTo(
        kadIdOfKey(key),
        sim.nodes.filter((n) => n.index !== from),
        20,
      )
      const got = await closest(sim, from, key)
      // kad-dht's walk is not exhaustive: it may stop one short of the 20th closest.
      assert.equal(got.length, 20)
      assert.ok(
        got.filter((p) => truth.includes(p)).length >= 18,
        `${from}: ${got.filter((p) => truth.includes(p)).length} of 20`,
      )
    }
  })

  it('after kills, dead peers are never returned and live ones are still found', async () => {
    const dead = [2, 9, 14, 22, 30, 36]
    await Promise.all(dead.map((i) => sim.kill(i)))
    const deadIds = new Set(dead.map((i) => sim.node(i).peerId))
    // A walk towards a dead peer's own key returns the live peers around it, never the dead one.
    for (const i of dead.slice(0, 3)) {
      const got = await closest(sim, 5, base58btc.baseDecode(sim.node(i).peerId))
      assert.ok(got.length > 0)
      assert.deepEqual(
        got.filter((p) => deadIds.has(p)),
        [],
      )
    }
    for (const [from, to] of [
      [1, 38],
      [20, 6],
      [37, 11],
    ] as const) {
      const addrs = await sim
        .node(from)
        .dht.findPeer(sim.node(to).peerId, { useCache: false, signal: AbortSignal.timeout(DEADLINE_MS) })
      assert.ok(addrs.length > 0, `${from} found ${to} among the living`)
    }
  })
})
