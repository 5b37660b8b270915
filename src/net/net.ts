/**
 * The network layer: one libp2p node behind Lateral's narrow `Net` interface.
 *
 * @example
 * ```ts
 * const net = createNet(init, { datastore, logger })
 * await net.start()
 * await net.connect('/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...')
 * const ms = await net.ping('12D3Koo...')
 * ```
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import type { GossipsubMessage } from '@libp2p/gossipsub'
import type { Connection, IdentifyResult, PeerId, PeerInfo } from '@libp2p/interface'
import type { SingleKadDHT } from '@libp2p/kad-dht'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'
import { createLibp2p, type Libp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import { Registry } from 'prom-client'
import type { AbortOptions } from '../core/abort.ts'
import { DHT_PROTOCOL } from '../core/constants.ts'
import {
  AbortedError,
  AddressInUseError,
  InvalidInputError,
  NotStartedError,
  PeerUnreachableError,
  TimeoutError,
} from '../core/errors.ts'
import { type ComponentLogger, errorFields, type Logger } from '../core/logger.ts'
import { buildLibp2pOptions, type Services } from './libp2p-options.ts'
import { PenaltyBook } from './penalties.ts'
import { freeListenAddresses } from './ports.ts'
import { createPubSub, toPubSubMessage } from './pubsub.ts'
import { toProtocolStream } from './stream.ts'
import { Traffic } from './traffic.ts'
import type {
  DhtStatus,
  HandleOptions,
  Net,
  NetEvents,
  NetInit,
  OpenStreamOptions,
  PeerConnection,
  ProtocolHandler,
  ProtocolStream,
  PubSub,
  TrafficTotals,
} from './types.ts'

export interface NetComponents {
  datastore: Datastore
  logger: ComponentLogger
}

/** How many remembered peers are redialled at start. */
const RECONNECT_AT_START = 16

class Libp2pNet implements Net {
  readonly #events = new EventTarget()
  readonly #init: NetInit
  readonly #components: NetComponents
  readonly #log: Logger
  #node: Libp2p<Services> | undefined
  #registry: Registry | undefined
  #traffic: Traffic | undefined
  #peerId = ''
  #addresses: string[] = []
  readonly #lastPing = new Map<string, number>()
  readonly #penalties = new PenaltyBook()
  readonly pubsub: PubSub = createPubSub(() => this.#libp2p().services.pubsub)
  readonly #dialing = new Set<string>()

  constructor(init: NetInit, components: NetComponents) {
    this.#init = init
    this.#components = components
    this.#log = components.logger.forComponent('lateral:net')
  }

  get peerId(): string {
    if (this.#peerId === '') throw new NotStartedError('the network is not started')
    return this.#peerId
  }

  isStarted(): boolean {
    return this.#node !== undefined
  }

  async start(): Promise<void> {
    if (this.#node !== undefined) return
    const privateKey = await generateKeyPairFromSeed('Ed25519', this.#init.seed)
    const listen = this.#init.transport === 'memory' ? this.#init.listen : await freeListenAddresses(this.#init.listen)
    this.#registry = this.#init.metrics ? new Registry() : undefined
    this.#traffic = this.#init.metrics ? new Traffic() : undefined
    const metrics =
      this.#registry === undefined || this.#traffic === undefined
        ? undefined
        : { registry: this.#registry, traffic: this.#traffic }
    let node: Libp2p<Services>
    try {
      node = await createLibp2p(
        buildLibp2pOptions(this.#init, privateKey, this.#components.datastore, listen, metrics, (peerId) =>
          this.#penalties.get(peerId),
        ),
      )
    } catch (err) {
      throw listenError(err)
    }
    this.#node = node
    this.#peerId = node.peerId.toString()
    node.addEventListener('connection:open', this.#onConnectionOpen)
    node.addEventListener('peer:connect', this.#onConnect)
    node.addEventListener('peer:disconnect', this.#onDisconnect)
    node.addEventListener('peer:identify', this.#onIdentify)
    node.addEventListener('peer:discovery', this.#onDiscovery)
    node.addEventListener('self:peer:update', this.#onSelfUpdate)
    node.services.pubsub.addEventListener('gossipsub:message', this.#onPubSubMessage)
    this.#addresses = this.addresses()
    this.#log.info('network started', { peerId: this.#peerId, addresses: this.#addresses })
    void this.#reconnectKnownPeers()
  }

  async stop(): Promise<void> {
    const node = this.#node
    if (node === undefined) return
    this.#node = undefined
    node.removeEventListener('connection:open', this.#onConnectionOpen)
    node.removeEventListener('peer:connect', this.#onConnect)
    node.removeEventListener('peer:disconnect', this.#onDisconnect)
    node.removeEventListener('peer:identify', this.#onIdentify)
    node.removeEventListener('peer:discovery', this.#onDiscovery)
    node.removeEventListener('self:peer:update', this.#onSelfUpdate)
    node.services.pubsub.removeEventListener('gossipsub:message', this.#onPubSubMessage)
    await node.stop()
    this.#registry?.clear()
    this.#log.info('network stopped')
  }

  addresses(): string[] {
    return this.#libp2p()
      .getMultiaddrs()
      .map((ma) => ma.toString())
  }

  protocols(): string[] {
    return [...this.#libp2p().getProtocols()].sort()
  }

  async connections(): Promise<PeerConnection[]> {
    const node = this.#libp2p()
    const byPeer = new Map<string, Connection[]>()
    for (const conn of node.getConnections()) {
      const id = conn.remotePeer.toString()
      const list = byPeer.get(id) ?? []
      list.push(conn)
      byPeer.set(id, list)
    }
    return Promise.all([...byPeer.values()].map(async (conns) => this.#describe(conns)))
  }

  async connect(target: string, options: AbortOptions = {}): Promise<PeerConnection> {
    const node = this.#libp2p()
    const dialTarget = parseTarget(target)
    try {
      const conn = await node.dial(dialTarget, withTimeout(options, this.#init.dialTimeoutMs))
      return await this.#describe(node.getConnections(conn.remotePeer))
    } catch (err) {
      throw mapNetError(err, `could not connect to ${target}`, options)
    }
  }

  async disconnect(peerId: string, options: AbortOptions = {}): Promise<void> {
    await this.#libp2p().hangUp(parsePeerId(peerId), options)
  }

  async ping(target: string, options: AbortOptions = {}): Promise<number> {
    const node = this.#libp2p()
    const dialTarget = parseTarget(target)
    try {
      const rtt = await node.services.ping.ping(dialTarget, withTimeout(options, this.#init.dialTimeoutMs))
      const id = isPeerId(dialTarget)
        ? dialTarget.toString()
        : dialTarget.getComponents().find((c) => c.name === 'p2p')?.value
      if (id !== undefined) this.#lastPing.set(id, rtt)
      return rtt
    } catch (err) {
      throw mapNetError(err, `ping to ${target} failed`, options)
    }
  }

  traffic(): TrafficTotals | undefined {
    return this.#traffic === undefined ? undefined : { ...this.#traffic.totals }
  }

  dht(): DhtStatus {
    const dht = this.#libp2p().services.dht
    // kadDHT() is typed as the general interface; the single DHT it builds has a routing table.
    const size = (dht as Partial<SingleKadDHT>).routingTable?.size ?? 0
    return { mode: dht.getMode(), routingTableSize: size, protocol: DHT_PROTOCOL }
  }

  async findPeer(peerId: string, options: AbortOptions = {}): Promise<string[]> {
    try {
      const info = await this.#libp2p().peerRouting.findPeer(parsePeerId(peerId), options)
      return info.multiaddrs.map((ma) => ma.toString())
    } catch (err) {
      throw mapNetError(err, `could not find peer ${peerId}`, options)
    }
  }

  async provide(cid: string, options: AbortOptions = {}): Promise<void> {
    try {
      await this.#libp2p().contentRouting.provide(parseCid(cid), options)
    } catch (err) {
      throw mapNetError(err, `could not announce ${cid}`, options)
    }
  }

  async *findProviders(
    cid: string,
    options: AbortOptions = {},
  ): AsyncGenerator<{ peerId: string; addresses: string[] }> {
    const node = this.#libp2p()
    try {
      for await (const info of node.contentRouting.findProviders(parseCid(cid), options)) {
        const peerId = info.id.toString()
        if (peerId === this.#peerId) continue
        if (info.multiaddrs.length > 0) await node.peerStore.merge(info.id, { multiaddrs: info.multiaddrs })
        yield { peerId, addresses: info.multiaddrs.map((ma) => ma.toString()) }
      }
    } catch (err) {
      if (options.signal?.aborted === true) return
      throw mapNetError(err, `could not look up providers of ${cid}`, options)
    }
  }

  async knownPeers(): Promise<Array<{ peerId: string; addresses: string[] }>> {
    const peers = await this.#libp2p().peerStore.all()
    return peers.map((p) => ({ peerId: p.id.toString(), addresses: p.addresses.map((a) => a.multiaddr.toString()) }))
  }

  async handle(protocol: string, handler: ProtocolHandler, options: HandleOptions = {}): Promise<void> {
    const { maxInboundStreams, ...limits } = options
    await this.#libp2p().handle(
      protocol,
      async (stream, connection) => {
        try {
          await handler(toProtocolStream(stream, connection.remotePeer.toString(), limits))
        } catch (err) {
          this.#log.warn('protocol handler failed', { protocol, ...errorFields(err) })
          stream.abort(err instanceof Error ? err : new Error(String(err)))
        }
      },
      maxInboundStreams === undefined ? {} : { maxInboundStreams },
    )
  }

  async unhandle(protocol: string): Promise<void> {
    await this.#libp2p().unhandle(protocol)
  }

  async openStream(peerId: string, protocol: string, options: OpenStreamOptions = {}): Promise<ProtocolStream> {
    const { signal, ...limits } = options
    try {
      const stream = await this.#libp2p().dialProtocol(
        parsePeerId(peerId),
        protocol,
        signal === undefined ? {} : { signal },
      )
      return toProtocolStream(stream, peerId, limits)
    } catch (err) {
      throw mapNetError(err, `could not open ${protocol} to ${peerId}`, options)
    }
  }

  penalize(peerId: string, points: number, reason: string): void {
    const total = this.#penalties.add(peerId, points)
    this.#log.info('peer penalised', { peerId, points, total: Math.round(total * 100) / 100, reason })
  }

  penalty(peerId: string): number {
    return this.#penalties.get(peerId)
  }

  publicKeyOf(peerId: string): Uint8Array {
    const key = parsePeerId(peerId).publicKey
    if (key === undefined || key.type !== 'Ed25519') {
      throw new InvalidInputError(`peer ${peerId} has no embedded Ed25519 key`)
    }
    return key.raw
  }

  async metricsText(): Promise<string> {
    return this.#registry === undefined ? '' : this.#registry.metrics()
  }

  #libp2p(): Libp2p<Services> {
    if (this.#node === undefined) throw new NotStartedError('the network is not started')
    return this.#node
  }

  async #describe(conns: Connection[]): Promise<PeerConnection> {
    const first = conns[0] as Connection
    const id = first.remotePeer.toString()
    let protocols: string[] = []
    let agent: string | undefined
    try {
      const peer = await this.#libp2p().peerStore.get(first.remotePeer)
      protocols = [...peer.protocols].sort()
      const raw = peer.metadata.get('AgentVersion')
      if (raw !== undefined) agent = new TextDecoder().decode(raw)
    } catch {
      // Not identified yet: no protocols or agent to show.
    }
    const rtt = conns.map((c) => c.rtt).find((r) => r !== undefined) ?? this.#lastPing.get(id)
    const bytes = this.#traffic?.of(conns)
    return {
      peerId: id,
      addresses: conns.map((c) => c.remoteAddr.toString()),
      direction: first.direction,
      ...(rtt === undefined ? {} : { latencyMs: rtt }),
      protocols,
      ...(agent === undefined ? {} : { agent }),
      openedAt: Math.min(...conns.map((c) => c.timeline.open)),
      ...(first.encryption === undefined ? {} : { encryption: first.encryption }),
      ...(first.multiplexer === undefined ? {} : { muxer: first.multiplexer }),
      ...(bytes === undefined ? {} : bytes),
    }
  }

  /** Redial peers remembered in the persisted peer store, so a restarted node rejoins. */
  async #reconnectKnownPeers(): Promise<void> {
    try {
      const known = await this.knownPeers()
      const candidates = known.filter((p) => p.peerId !== this.#peerId && p.addresses.length > 0)
      await Promise.all(candidates.slice(0, RECONNECT_AT_START).map((p) => this.#autoDial(p.peerId)))
    } catch (err) {
      this.#log.debug('reconnect from peer store failed', errorFields(err))
    }
  }

  async #autoDial(peerId: string, addrs: Multiaddr[] = []): Promise<void> {
    const node = this.#node
    if (node === undefined || this.#dialing.has(peerId) || peerId === this.#peerId) return
    if (node.getConnections().length >= this.#init.autoDialTarget) return
    const id = peerIdFromString(peerId)
    if (node.getConnections(id).length > 0) return
    this.#dialing.add(peerId)
    try {
      if (addrs.length > 0) await node.peerStore.merge(id, { multiaddrs: addrs })
      await node.dial(id, { signal: AbortSignal.timeout(this.#init.dialTimeoutMs) })
    } catch (err) {
      this.#log.debug('auto-dial failed', { peerId, ...errorFields(err) })
    } finally {
      this.#dialing.delete(peerId)
    }
  }

  readonly #onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    this.#traffic?.opened(evt.detail)
  }

  readonly #onConnect = (evt: CustomEvent<PeerId>): void => {
    this.#emit('peer:connect', { peerId: evt.detail.toString() })
  }

  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const peerId = evt.detail.toString()
    this.#lastPing.delete(peerId)
    this.#emit('peer:disconnect', { peerId })
  }

  readonly #onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols, agentVersion } = evt.detail
    this.#emit('peer:identify', {
      peerId: peerId.toString(),
      protocols: [...protocols].sort(),
      ...(agentVersion === undefined ? {} : { agent: agentVersion }),
    })
  }

  readonly #onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    void this.#autoDial(evt.detail.id.toString(), evt.detail.multiaddrs)
  }

  readonly #onPubSubMessage = (evt: CustomEvent<GossipsubMessage>): void => {
    this.#emit('pubsub:message', toPubSubMessage(evt.detail.msg, evt.detail.propagationSource))
  }

  readonly #onSelfUpdate = (): void => {
    if (this.#node === undefined) return
    const addresses = this.addresses()
    if (addresses.join() === this.#addresses.join()) return
    this.#addresses = addresses
    this.#emit('addresses:change', { addresses })
  }

  addEventListener<K extends keyof NetEvents>(
    type: K,
    listener: (evt: NetEvents[K]) => void,
    options?: boolean | { once?: boolean; signal?: AbortSignal },
  ): void {
    this.#events.addEventListener(type, listener as (evt: Event) => void, options)
  }

  removeEventListener<K extends keyof NetEvents>(
    type: K,
    listener: (evt: NetEvents[K]) => void,
    options?: boolean,
  ): void {
    this.#events.removeEventListener(type, listener as (evt: Event) => void, options)
  }

  #emit<K extends keyof NetEvents>(type: K, detail: NetEvents[K]['detail']): void {
    this.#events.dispatchEvent(new CustomEvent(type, { detail }))
  }
}

export function createNet(init: NetInit, components: NetComponents): Net {
  return new Libp2pNet(init, components)
}

function isPeerId(target: PeerId | Multiaddr): target is PeerId {
  return typeof (target as PeerId).toMultihash === 'function'
}

function parseCid(value: string): CID {
  try {
    return CID.parse(value)
  } catch {
    throw new InvalidInputError(`not a CID: ${JSON.stringify(value)}`)
  }
}

function parsePeerId(value: string): PeerId {
  try {
    return peerIdFromString(value)
  } catch {
    throw new InvalidInputError(`not a peer ID: ${JSON.stringify(value)}`)
  }
}

/** A target is a multiaddr (starts with '/') or a peer ID. */
function parseTarget(value: string): PeerId | Multiaddr {
  if (!value.startsWith('/')) return parsePeerId(value)
  try {
    return multiaddr(value)
  } catch {
    throw new InvalidInputError(`not a multiaddr: ${JSON.stringify(value)}`)
  }
}

function withTimeout(options: AbortOptions, ms: number): { signal: AbortSignal } {
  const timeout = AbortSignal.timeout(ms)
  return { signal: options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]) }
}

/** libp2p's listen failure as one clear line naming each address and why. */
function listenError(err: unknown): Error {
  const e = err as Error
  if (e?.name !== 'UnsupportedListenAddressesError') return e
  const reasons = e.message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('/'))
  const detail = reasons.length > 0 ? reasons.join('; ') : e.message
  const Ctor = /EADDRINUSE|EADDRNOTAVAIL|EACCES/.test(detail) ? AddressInUseError : InvalidInputError
  return new Ctor(`cannot listen on ${detail} (check --listen or "listen" in config.json)`)
}

function mapNetError(err: unknown, context: string, options: AbortOptions): Error {
  if (err instanceof InvalidInputError) return err
  if (options.signal?.aborted === true) return new AbortedError(`${context}: cancelled`)
  const e = err as Error
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return new TimeoutError(`${context}: timed out`)
  return new PeerUnreachableError(`${context}: ${e?.message ?? String(err)}`)
}

/** The peer ID (base58btc) of the device key with this Ed25519 seed, without starting anything. */
export async function peerIdFromSeed(seed: Uint8Array): Promise<string> {
  const key = await generateKeyPairFromSeed('Ed25519', seed)
  return peerIdFromPrivateKey(key).toString()
}
