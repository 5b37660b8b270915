/**
 * kad-dht without libp2p's plumbing, so a thousand DHT nodes fit in one process. Each `KadPeer`
 * runs the real `@libp2p/kad-dht` (routing table, queries, RPC codec and handlers, provider
 * store) configured as libp2p-options.ts configures it, with libp2p's own peer store and a memory
 * datastore, and answers lookups through Lateral's `Routing` as a node does. What kad-dht asks of
 * libp2p besides — registrar, connection manager, address manager, ping — is implemented here over
 * in-process links (`KadWire`), with no transport, encryption, muxer or identify:
 * - a dial takes one round trip on the link; then each end, one round trip later, records the
 *   other's address and protocols and tells its topologies, as identify does;
 * - a stream takes one round trip to open (multistream-select), then carries each write across
 *   the link after its one-way latency, in order (`SimFabric.route` decides);
 * - a ping takes the stream's opening round trip and one more.
 * A vanished peer (`SimFabric.vanish`) never answers: dials, streams and pings to it wait until
 * the caller's signal gives up, as they would for a machine that disappeared. Connections are
 * never closed or pruned.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import {
  type ComponentLogger,
  type Connection,
  contentRoutingSymbol,
  type Libp2pEvents,
  type Logger,
  type PeerDiscoveryEvents,
  type PeerId,
  type PeerInfo,
  type PeerRouting,
  type PeerStore,
  type PrivateKey,
  peerRoutingSymbol,
  type StreamHandler,
  type Topology,
  TypedEventEmitter,
  type TypedEventTarget,
} from '@libp2p/interface'
import type { AddressManager, ConnectionManager, Registrar } from '@libp2p/interface-internal'
import { type KadDHT, kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { persistentPeerStore } from '@libp2p/peer-store'
import type { Ping } from '@libp2p/ping'
import { AbstractStream, type SendResult } from '@libp2p/utils'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import type { Libp2p } from 'libp2p'
import { raceAbort } from '../core/abort.ts'
import { DHT_PROTOCOL } from '../core/constants.ts'
import { dhtRpcTimeouts, type Services } from './libp2p-options.ts'
import { Routing } from './routing.ts'
import type { SimFabric } from './sim-fabric.ts'

/** The links between KadPeers: who is where, and when bytes sent now arrive. */
export class KadWire {
  readonly fabric: SimFabric
  readonly #peers = new Map<string, KadPeer>()
  /** Deliveries waiting for a cut link to heal. */
  #held: Array<() => void> = []

  constructor(fabric: SimFabric) {
    this.fabric = fabric
    fabric.onChange(() => {
      const held = this.#held
      this.#held = []
      for (const retry of held) retry()
    })
  }

  join(peer: KadPeer): void {
    this.#peers.set(peer.id, peer)
  }

  peer(id: string): KadPeer | undefined {
    return this.#peers.get(id)
  }

  /** Run `deliver` once `bytes` sent now from `from` have reached `to`; never, if an end vanished. */
  carry(from: string, to: string, bytes: number, deliver: () => void): void {
    const route = this.fabric.route(from, to, bytes)
    if (route.kind === 'deliver') setTimeout(deliver, route.delayMs)
    else if (route.kind === 'hold') this.#held.push(() => this.carry(from, to, bytes, deliver))
  }

  /** Resolves when a message from `from` to `to` and its answer have crossed; never, if an end vanished. */
  roundTrip(from: string, to: string): Promise<void> {
    return new Promise((resolve) => this.carry(from, to, 1, () => this.carry(to, from, 1, resolve)))
  }
}

export interface KadPeerInit {
  wire: KadWire
  /** Ed25519 key seed (32 bytes). */
  seed: Uint8Array
  /** The address it announces (`/memory/NAME`); nothing listens there, the wire finds peers by ID. */
  address: string
  /** kad-dht's minimum RPC timeout, ms (NetInit.dhtRpcMinTimeoutMs). */
  rpcMinTimeoutMs?: number
  /** kad-dht's maximum RPC timeout, ms (NetInit.dhtRpcMaxTimeoutMs). */
  rpcMaxTimeoutMs?: number
}

/** One DHT node: real kad-dht, with the components it asks of libp2p implemented over a KadWire. */
export class KadPeer {
  readonly peerId: PeerId
  readonly id: string
  readonly dht: KadDHT
  /** Lateral's routing over this DHT: findPeer, closestPeers, provide, findProviders. */
  readonly routing: Routing
  readonly peerStore: PeerStore
  readonly #wire: KadWire
  readonly #address: string
  readonly #handlers = new Map<string, StreamHandler>()
  readonly #topologies = new Map<string, Topology & { protocol: string }>()
  /** Remote peer ID -> the connection's dial (pending forever when the remote had vanished). */
  readonly #connections = new Map<string, Promise<void>>()
  #nextTopology = 0

  static async create(init: KadPeerInit): Promise<KadPeer> {
    const privateKey = await generateKeyPairFromSeed('Ed25519', init.seed)
    return new KadPeer(init, privateKey)
  }

  private constructor(init: KadPeerInit, privateKey: PrivateKey) {
    this.#wire = init.wire
    this.#address = init.address
    this.peerId = peerIdFromPrivateKey(privateKey)
    this.id = this.peerId.toString()
    const events = new TypedEventEmitter<Libp2pEvents>()
    const datastore = new MemoryDatastore()
    this.peerStore = persistentPeerStore({ peerId: this.peerId, datastore, events, logger: silentLogger })
    this.dht = kadDHT({
      // Lateral's settings (libp2p-options.ts), server mode.
      protocol: DHT_PROTOCOL,
      clientMode: false,
      peerInfoMapper: passthroughMapper,
      logPrefix: 'lateral:dht',
      datastorePrefix: '/dht',
      metricsPrefix: 'lateral_dht',
      networkDialTimeout: dhtRpcTimeouts({
        ...(init.rpcMinTimeoutMs === undefined ? {} : { dhtRpcMinTimeoutMs: init.rpcMinTimeoutMs }),
        ...(init.rpcMaxTimeoutMs === undefined ? {} : { dhtRpcMaxTimeoutMs: init.rpcMaxTimeoutMs }),
      }),
    })({
      peerId: this.peerId,
      privateKey,
      datastore,
      events,
      logger: silentLogger,
      peerStore: this.peerStore,
      registrar: this.#registrar(),
      connectionManager: this.#connectionManager(),
      addressManager: { getAddresses: () => [multiaddr(`${this.#address}/p2p/${this.id}`)] } as AddressManager,
      ping: { ping: (peer, options) => this.#ping(String(peer), options?.signal ?? undefined) } as Ping,
    })
    // Peers a DHT answer names go into the peer store, as libp2p does with discovered peers. A
    // peer's one address never changes here, so a peer already stored is not merged again: the
    // same result for a fraction of the CPU (merges are most of a build's peer store work).
    const discovery = this.dht as unknown as TypedEventTarget<PeerDiscoveryEvents>
    discovery.addEventListener('peer', (evt) => {
      const { id, multiaddrs } = evt.detail
      if (!id.equals(this.peerId)) void this.#discovered(id, multiaddrs).catch(() => {})
    })
    this.routing = new Routing(() => this.#asLibp2p())
    this.#wire.join(this)
  }

  async #discovered(id: PeerId, multiaddrs: Multiaddr[]): Promise<void> {
    if (!(await this.peerStore.has(id))) await this.peerStore.merge(id, { multiaddrs })
  }

  async start(): Promise<void> {
    await (this.dht as unknown as { start(): Promise<void> }).start()
  }

  async stop(): Promise<void> {
    await (this.dht as unknown as { stop(): Promise<void> }).stop()
    this.#handlers.clear()
  }

  /** Peers this node holds a connection to (dialled or accepted, answered or not). */
  get connections(): number {
    return this.#connections.size
  }

  /** Open a connection to `to` (or wait for the one being opened); waits forever for a vanished peer. */
  connect(to: string, signal?: AbortSignal): Promise<void> {
    let opened = this.#connections.get(to)
    if (opened === undefined) {
      opened = this.#dial(to)
      this.#connections.set(to, opened)
    }
    return raceAbort(opened, signal)
  }

  async #dial(to: string): Promise<void> {
    await this.#wire.roundTrip(this.id, to)
    const remote = this.#wire.peer(to)
    if (remote === undefined) return
    remote.#accept(this)
    void this.#identify(remote)
  }

  /** The remote end of a dial: the connection exists from now on. */
  #accept(dialer: KadPeer): void {
    if (!this.#connections.has(dialer.id)) this.#connections.set(dialer.id, Promise.resolve())
    void this.#identify(dialer)
  }

  /** What identify does after a connection opens: learn the remote's address and protocols, tell topologies. */
  async #identify(remote: KadPeer): Promise<void> {
    await this.#wire.roundTrip(this.id, remote.id)
    const protocols = [...remote.#handlers.keys()]
    await this.peerStore.merge(remote.peerId, { multiaddrs: [multiaddr(remote.#address)], protocols })
    for (const t of this.#topologies.values()) {
      if (protocols.includes(t.protocol)) void t.onConnect?.(remote.peerId, this.#connectionTo(remote.peerId))
    }
  }

  #connectionTo(remotePeer: PeerId): Connection {
    // kad-dht reads only the remote peer of a connection.
    return { remotePeer, status: 'open' } as unknown as Connection
  }

  async #openStream(to: string, protocol: string, signal?: AbortSignal): Promise<LinkStream> {
    await this.connect(to, signal)
    await raceAbort(this.#wire.roundTrip(this.id, to), signal)
    const remote = this.#wire.peer(to)
    const outbound = new LinkStream(this.#wire, this.id, to, 'outbound', protocol)
    const inbound = new LinkStream(this.#wire, to, this.id, 'inbound', protocol)
    outbound.remote = inbound
    inbound.remote = outbound
    if (remote !== undefined) remote.#inbound(inbound, this.peerId)
    return outbound
  }

  #inbound(stream: LinkStream, from: PeerId): void {
    const handler = this.#handlers.get(stream.protocol)
    if (handler === undefined) {
      stream.abort(new Error(`protocol ${stream.protocol} not supported`))
      return
    }
    void Promise.resolve(handler(stream, this.#connectionTo(from))).catch((err: Error) => stream.abort(err))
  }

  async #ping(to: string, signal: AbortSignal | undefined): Promise<number> {
    const started = performance.now()
    await this.connect(to, signal)
    await raceAbort(this.#wire.roundTrip(this.id, to), signal)
    await raceAbort(this.#wire.roundTrip(this.id, to), signal)
    return performance.now() - started
  }

  /** The members of libp2p's registrar that kad-dht calls. */
  #registrar(): Registrar {
    return {
      handle: async (protocol: string, handler: StreamHandler) => {
        this.#handlers.set(protocol, handler)
      },
      unhandle: async (protocol: string) => {
        this.#handlers.delete(protocol)
      },
      register: async (protocol: string, topology: Topology) => {
        const id = `topology-${this.#nextTopology++}`
        this.#topologies.set(id, { ...topology, protocol })
        return id
      },
      unregister: (id: string) => {
        this.#topologies.delete(id)
      },
    } as unknown as Registrar
  }

  /** The members of libp2p's connection manager that kad-dht calls. */
  #connectionManager(): ConnectionManager {
    return {
      openStream: (peer: PeerId, protocol: string, options?: { signal?: AbortSignal }) =>
        this.#openStream(peer.toString(), protocol, options?.signal),
      isDialable: async () => true,
    } as unknown as ConnectionManager
  }

  /** What Lateral's Routing reads of a libp2p node, with libp2p's own wrappers around the DHT. */
  #asLibp2p(): Libp2p<Services> {
    const dht = this.dht as unknown as Record<symbol, unknown>
    const dhtPeerRouting = dht[peerRoutingSymbol] as PeerRouting
    const peerRouting = {
      // libp2p's PeerRouting.findPeer: ask the router, keep the addresses it found.
      findPeer: async (id: PeerId, options?: { signal?: AbortSignal }): Promise<PeerInfo> => {
        const info = await dhtPeerRouting.findPeer(id, options)
        if (info.multiaddrs.length > 0) await this.peerStore.merge(info.id, { multiaddrs: info.multiaddrs }, options)
        return info
      },
    }
    return {
      peerId: this.peerId,
      peerStore: this.peerStore,
      peerRouting,
      contentRouting: dht[contentRoutingSymbol],
      services: { dht: this.dht },
    } as unknown as Libp2p<Services>
  }
}

let streams = 0

/** One end of a stream over a KadWire link. */
class LinkStream extends AbstractStream {
  remote: LinkStream | undefined
  readonly #wire: KadWire
  readonly #from: string
  readonly #to: string

  constructor(wire: KadWire, from: string, to: string, direction: 'inbound' | 'outbound', protocol: string) {
    super({ id: `${streams++}`, direction, protocol, log: silentLog })
    this.#wire = wire
    this.#from = from
    this.#to = to
  }

  sendData(data: Parameters<AbstractStream['sendData']>[0]): SendResult {
    const bytes = data.subarray()
    this.#send(bytes.byteLength, (r) => r.onData(bytes))
    return { sentBytes: bytes.byteLength, canSendMore: true }
  }

  sendReset(): void {
    this.#send(1, (r) => r.onRemoteReset())
  }

  async sendCloseWrite(): Promise<void> {
    this.#send(1, (r) => r.onRemoteCloseWrite())
  }

  async sendCloseRead(): Promise<void> {
    this.#send(1, (r) => r.onRemoteCloseRead())
  }

  // Writes are never refused (canSendMore is always true), so there is no flow control to relay.
  sendPause(): void {}

  sendResume(): void {}

  #send(bytes: number, deliver: (remote: LinkStream) => void): void {
    const remote = this.remote
    if (remote !== undefined) this.#wire.carry(this.#from, this.#to, bytes, () => deliver(remote))
  }
}

/** A logger that writes nothing and costs nothing to make: a thousand nodes' debug loggers are not free. */
const silentLog = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) as unknown as Logger
silentLog.newScope = () => silentLog
const silentLogger: ComponentLogger = { forComponent: () => silentLog }
