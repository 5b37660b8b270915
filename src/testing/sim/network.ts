/**
 * A simulated network of N nodes in one process: every connection crosses a `SimFabric` link
 * with its own latency and loss; partitions cut links and heal them; nodes are killed without
 * warning, restarted with the same key, or join. Keys and link profiles come from a seed, so a
 * script runs the same network each time (timing, and so which chunk a loss hits, still varies).
 *
 * Two kinds of node, both over the same sim transport:
 * - `full`: a whole Lateral node (`createNode`: net + every service), as a user runs it;
 * - `net`: Lateral's network layer alone (`createNet`: libp2p with identify, ping, kad-dht,
 *   gossipsub and the relay transport, configured exactly as in a full node), without the
 *   services above it. It holds many more nodes per process (docs/resilience.md has the figures).
 *
 * @example
 * ```ts
 * const sim = await SimNetwork.create(50, { kind: 'net', seed: 7, latencyMs: [20, 80] })
 * t.after(() => sim.stop())
 * await sim.connectRandom(3)
 * await sim.kill(4)
 * ```
 */
import { MemoryDatastore } from 'datastore-core'
import { ed25519PublicKey } from '../../core/crypto.ts'
import { silentLogger } from '../../core/logger.ts'
import type { DeviceKey } from '../../identity/keystore.ts'
import { createNet, type LinkProfile, type Net, type NetInit, SimFabric } from '../../net/index.ts'
import { type ConfigOverrides, defaultConfig } from '../../node/config.ts'
import { createNode, type LateralNode } from '../../node/node.ts'
import { installTeardownGuard } from '../teardown-guard.ts'
import { kadIdOfPeer } from './kad.ts'
import { hashBytes, hashUnit, sample, seededRandom } from './random.ts'

export type SimNodeKind = 'full' | 'net'

export interface SimNetworkInit {
  kind?: SimNodeKind
  /** Seeds keys, link profiles, loss and the harness's own choices. Default 1. */
  seed?: number
  /** One-way latency of each link, uniform in [min, max] ms, fixed per link by the seed. Default [0, 0]. */
  latencyMs?: [number, number]
  /** Chunk loss probability on every link (retransmitted after the RTO). Default 0. */
  loss?: number
  /** Retransmission timeout after a loss, ms. */
  rtoMs?: number
  /** Or a profile per link, overriding latencyMs and loss. */
  link?: (a: string, b: string) => LinkProfile
  /** `full` nodes: settings over the defaults. */
  config?: ConfigOverrides
  /** `net` nodes: NetInit fields over those a full node would use. */
  net?: Partial<NetInit>
}

export interface SimNode {
  readonly index: number
  readonly key: DeviceKey
  readonly peerId: string
  /** Its listen address (`/memory/...`), with `/p2p/ID`. */
  readonly address: string
  /** Kademlia key of its peer ID (kad.ts). */
  readonly kadId: Uint8Array
  alive: boolean
  net: Net
  /** The whole node, for `full` networks. */
  node: LateralNode | undefined
}

let networks = 0

export class SimNetwork {
  readonly fabric: SimFabric
  readonly nodes: SimNode[] = []
  /** The harness's own seeded choices (which node to kill, whom to dial). */
  readonly random: () => number
  readonly #init: SimNetworkInit
  readonly #prefix: string
  readonly #seed: number

  private constructor(init: SimNetworkInit) {
    this.#init = init
    this.#seed = init.seed ?? 1
    this.#prefix = `sim${networks++}-${process.pid}`
    this.random = seededRandom(this.#seed)
    const [min, max] = init.latencyMs ?? [0, 0]
    const loss = init.loss ?? 0
    this.fabric = new SimFabric({
      random: seededRandom(this.#seed ^ 0x5eed),
      ...(init.rtoMs === undefined ? {} : { rtoMs: init.rtoMs }),
      link: init.link ?? ((a, b) => ({ latencyMs: min + (max - min) * hashUnit(this.#seed, 'link', a, b), loss })),
    })
  }

  static async create(size: number, init: SimNetworkInit = {}): Promise<SimNetwork> {
    installTeardownGuard()
    const sim = new SimNetwork(init)
    try {
      // A few at a time: starting hundreds of libp2p nodes at once only queues their timers.
      for (let i = 0; i < size; i += 25) {
        await Promise.all(Array.from({ length: Math.min(25, size - i) }, () => sim.add()))
      }
    } catch (err) {
      await sim.stop()
      throw err
    }
    return sim
  }

  get kind(): SimNodeKind {
    return this.#init.kind ?? 'net'
  }

  /** A new node joins (not connected to anyone yet). */
  async add(): Promise<SimNode> {
    const index = this.nodes.length
    const seed = hashBytes(this.#seed, 'key', index)
    const key: DeviceKey = { seed, publicKey: ed25519PublicKey(seed) }
    const placeholder = { index, key, alive: false } as SimNode
    this.nodes.push(placeholder)
    const { net, node } = await this.#start(index, key)
    const peerId = net.peerId
    Object.assign(placeholder, {
      peerId,
      address: `/memory/${this.#prefix}-${index}/p2p/${peerId}`,
      kadId: kadIdOfPeer(peerId),
      alive: true,
      net,
      node,
    })
    return placeholder
  }

  async #start(index: number, key: DeviceKey): Promise<{ net: Net; node: LateralNode | undefined }> {
    const listen = [`/memory/${this.#prefix}-${index}`]
    if (this.kind === 'full') {
      const node = await createNode({
        key,
        transport: 'memory',
        fabric: this.fabric,
        config: { mdns: false, bootstrap: [], metrics: false, ...this.#init.config, listen },
      })
      return { net: node.net, node }
    }
    const c = defaultConfig()
    // What createNode would pass for the default config (node/node.ts), on the sim transport.
    const init: NetInit = {
      seed: key.seed,
      listen,
      bootstrap: [],
      mdns: false,
      dhtMode: c.dht.mode,
      dhtRpcMinTimeoutMs: c.dht.rpcMinTimeoutMs,
      dhtRpcMaxTimeoutMs: c.dht.rpcMaxTimeoutMs,
      encrypters: c.encrypters,
      maxConnections: c.connections.max,
      maxIncomingPendingConnections: c.connections.maxIncomingPending,
      dialTimeoutMs: c.connections.dialTimeoutMs,
      autoDialTarget: c.connections.autoDialTarget,
      reconnectAtStart: c.connections.reconnectAtStart,
      transport: 'memory',
      fabric: this.fabric,
      metrics: false,
      pubsubMaxMessageBytes: c.messaging.topicMaxBytes,
      relayReservations: c.relay.reservations,
      relayServer: { ...c.relay, enabled: c.relay.server },
      ...this.#init.net,
    }
    const net = createNet(init, { datastore: new MemoryDatastore(), logger: silentLogger })
    await net.start()
    return { net, node: undefined }
  }

  live(): SimNode[] {
    return this.nodes.filter((n) => n.alive)
  }

  node(i: number): SimNode {
    const n = this.nodes[i]
    if (n === undefined) throw new RangeError(`no node ${i}`)
    return n
  }

  /** Node i dials node j. */
  async connect(i: number, j: number): Promise<void> {
    await this.node(i).net.connect(this.node(j).address)
  }

  /** Every live node dials `k` other live nodes chosen by the seed (a sparse random graph). */
  async connectRandom(k: number): Promise<void> {
    const live = this.live()
    const dials: Array<Promise<void>> = []
    for (const n of live) {
      for (const m of sample(
        live.filter((x) => x !== n),
        k,
        this.random,
      ))
        dials.push(this.connect(n.index, m.index).catch(() => {}))
    }
    await Promise.all(dials)
  }

  /**
   * Kill node i without warning: from now on nothing it sent or is sent arrives; its peers'
   * connections to it stay open and silent until their own timeouts notice. Its process-side
   * state is then released (stopping it sends nothing: the fabric swallows it).
   */
  async kill(i: number): Promise<void> {
    const n = this.node(i)
    if (!n.alive) return
    n.alive = false
    this.fabric.vanish(n.peerId)
    await (n.node?.stop() ?? n.net.stop()).catch(() => {})
  }

  /** Start a killed node again with the same key and address (empty state: its store was in memory). */
  async restart(i: number): Promise<void> {
    const n = this.node(i)
    if (n.alive) return
    this.fabric.revive(n.peerId)
    const { net, node } = await this.#start(i, n.key)
    Object.assign(n, { net, node, alive: true })
  }

  /** Cut the network into groups of node indices (the rest form one more group). */
  partition(groups: number[][]): void {
    this.fabric.partition(groups.map((g) => g.map((i) => this.node(i).peerId)))
  }

  heal(): void {
    this.fabric.heal()
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.filter((n) => n.alive && n.net !== undefined).map((n) => this.kill(n.index)))
  }
}
