/**
 * A DHT-only simulated network: N nodes of the real kad-dht (net/kad-wire.ts: routing table,
 * queries, RPC codec, provider records, configured as Lateral configures it) over in-process links
 * with a seeded one-way latency per link, without libp2p's transport, encryption, muxer or
 * identify. It holds a thousand nodes in one process where SimNetwork's whole network layer stops
 * at a few hundred (docs/resilience.md, "DHT figures"). Killed nodes vanish without warning:
 * dials, streams and pings to them wait until the caller's timeout.
 *
 * @example
 * ```ts
 * const sim = await KadFabric.create(40, { seed: 3, latencyMs: [20, 80] })
 * await sim.connect(1, 0)
 * const addrs = await sim.node(1).dht.findPeer(sim.node(0).peerId, { useCache: false })
 * await sim.kill(0)
 * await sim.stop()
 * ```
 */
import { KadPeer, KadWire } from '../../net/kad-wire.ts'
import type { Routing } from '../../net/routing.ts'
import { SimFabric } from '../../net/sim-fabric.ts'
import { kadIdOfPeer } from './kad.ts'
import { hashBytes, hashUnit, seededRandom } from './random.ts'

export interface KadFabricInit {
  /** Seeds keys, link latencies and the harness's own choices. Default 1. */
  seed?: number
  /** One-way latency of each link, uniform in [min, max] ms, fixed per link by the seed. Default [0, 0]. */
  latencyMs?: [number, number]
  /** kad-dht's minimum RPC timeout, ms. Default Lateral's (DEFAULT_DHT_RPC_MIN_TIMEOUT_MS). */
  rpcMinTimeoutMs?: number
  /** kad-dht's maximum RPC timeout, ms. Default Lateral's (DEFAULT_DHT_RPC_MAX_TIMEOUT_MS). */
  rpcMaxTimeoutMs?: number
  /** How long `connect` waits for a dial before giving up, ms. Default 10 000 (libp2p's dial timeout). */
  dialTimeoutMs?: number
}

export interface KadNode {
  readonly index: number
  readonly peerId: string
  /** Kademlia key of its peer ID (kad.ts). */
  readonly kadId: Uint8Array
  alive: boolean
  /** Lateral's routing over this node's DHT, as `Net` exposes it. */
  readonly dht: Routing
  readonly peer: KadPeer
}

export class KadFabric {
  readonly fabric: SimFabric
  readonly nodes: KadNode[] = []
  /** The harness's own seeded choices (which node to kill, whom to dial). */
  readonly random: () => number
  readonly #wire: KadWire
  readonly #init: KadFabricInit
  readonly #seed: number

  private constructor(init: KadFabricInit) {
    this.#init = init
    this.#seed = init.seed ?? 1
    this.random = seededRandom(this.#seed)
    const [min, max] = init.latencyMs ?? [0, 0]
    this.fabric = new SimFabric({
      // Whole milliseconds: deliveries on one link then share one timer list and keep their order.
      link: (a, b) => ({ latencyMs: Math.round(min + (max - min) * hashUnit(this.#seed, 'link', a, b)), loss: 0 }),
    })
    this.#wire = new KadWire(this.fabric)
  }

  /** `size` started nodes, connected to no one yet. */
  static async create(size: number, init: KadFabricInit = {}): Promise<KadFabric> {
    const sim = new KadFabric(init)
    for (let i = 0; i < size; i++) await sim.add()
    return sim
  }

  /** A new node starts (not connected to anyone yet). */
  async add(): Promise<KadNode> {
    const index = this.nodes.length
    const peer = await KadPeer.create({
      wire: this.#wire,
      seed: hashBytes(this.#seed, 'kad-key', index),
      address: `/memory/kad-${this.#seed}-${index}`,
      ...(this.#init.rpcMinTimeoutMs === undefined ? {} : { rpcMinTimeoutMs: this.#init.rpcMinTimeoutMs }),
      ...(this.#init.rpcMaxTimeoutMs === undefined ? {} : { rpcMaxTimeoutMs: this.#init.rpcMaxTimeoutMs }),
    })
    await peer.start()
    const node: KadNode = { index, peerId: peer.id, kadId: kadIdOfPeer(peer.id), alive: true, dht: peer.routing, peer }
    this.nodes.push(node)
    return node
  }

  node(i: number): KadNode {
    const n = this.nodes[i]
    if (n === undefined) throw new RangeError(`no node ${i}`)
    return n
  }

  live(): KadNode[] {
    return this.nodes.filter((n) => n.alive)
  }

  /** Node `i` dials node `j`; rejects when the dial gets no answer within the dial timeout. */
  async connect(i: number, j: number): Promise<void> {
    await this.node(i).peer.connect(this.node(j).peerId, AbortSignal.timeout(this.#init.dialTimeoutMs ?? 10_000))
  }

  /** Node `i` vanishes without warning: it stops, and nothing sent to it is answered any more. */
  async kill(i: number): Promise<void> {
    const n = this.node(i)
    if (!n.alive) return
    n.alive = false
    this.fabric.vanish(n.peerId)
    await n.peer.stop()
  }

  async stop(): Promise<void> {
    await Promise.all(this.live().map((n) => n.peer.stop()))
  }
}
