/**
 * The network layer: one libp2p node behind Lateral's narrow `Net` interface. This file holds
 * the lifecycle and hands each call to the part that owns it: node construction
 * (libp2p-node.ts), peer views (peers.ts), dialling (dialer.ts, auto-dial.ts), DHT routing
 * (routing.ts), protocol streams (protocols.ts, stream.ts), events (events.ts), pubsub
 * (pubsub.ts) and penalties and bans (peer-guard.ts).
 *
 * @example
 * ```ts
 * const net = createNet(init, { datastore, logger })
 * await net.start()
 * await net.connect('/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...')
 * const ms = await net.ping('12D3Koo...')
 * ```
 */
import type { Connection } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import type { Libp2p } from 'libp2p'
import type { AbortOptions } from '../core/abort.ts'
import { DEFAULT_RELAY_DIAL_ATTEMPTS, DEFAULT_RELAY_RESERVATIONS } from '../core/constants.ts'
import { InvalidInputError, NotStartedError, PeerUnreachableError } from '../core/errors.ts'
import { type ComponentLogger, errorFields, type Logger } from '../core/logger.ts'
import { AutoDialer } from './auto-dial.ts'
import { Dialer } from './dialer.ts'
import { DirectUpgrader } from './direct-upgrade.ts'
import { addressesOf, NetEventBridge } from './events.ts'
import { watchInbound } from './inbound-watch.ts'
import { internalsOf } from './internals.ts'
import { type RunningLibp2p, startLibp2p } from './libp2p-node.ts'
import type { Services } from './libp2p-options.ts'
import { leaseBuffer, releaseReceived } from './native-tls.ts'
import { ObservedAddresses } from './observed.ts'
import { isPeerId, parsePeerId, parseTarget } from './parse.ts'
import { PeerGuard } from './peer-guard.ts'
import { PeerView } from './peers.ts'
import { Protocols } from './protocols.ts'
import { createPubSub } from './pubsub.ts'
import { reachabilityReport } from './reachability.ts'
import { RelayGate } from './relay-gate.ts'
import { RelayPicker } from './relay-picker.ts'
import { Routing } from './routing.ts'
import type {
  ConnectOptions,
  DhtQueryOptions,
  DhtStatus,
  HandleOptions,
  HangUp,
  Net,
  NetEvents,
  NetInit,
  OpenStreamOptions,
  PeerConnection,
  ProtocolHandler,
  ProtocolStream,
  PubSub,
  ReachabilityReport,
  TrafficTotals,
} from './types.ts'
import { upnpProbe } from './upnp-probe.ts'

export interface NetComponents {
  datastore: Datastore
  logger: ComponentLogger
}

class Libp2pNet implements Net {
  readonly #init: NetInit
  readonly #components: NetComponents
  readonly #log: Logger
  #running: RunningLibp2p | undefined
  #peerId = ''
  readonly #node = (): Libp2p<Services> => {
    if (this.#running === undefined) throw new NotStartedError('the network is not started')
    return this.#running.node
  }
  readonly #guard: PeerGuard
  #unwatch: () => void = () => {}
  readonly #events = new NetEventBridge()
  readonly #peers = new PeerView(this.#node, () => this.#running?.traffic)
  readonly #dialer: Dialer
  readonly #autoDial: AutoDialer
  readonly #routing = new Routing(this.#node)
  readonly #protocols: Protocols
  readonly #observed = new ObservedAddresses()
  readonly #relayPicker: RelayPicker
  readonly #directUpgrader: DirectUpgrader
  readonly #relayGate: RelayGate
  readonly pubsub: PubSub = createPubSub(() => {
    const gossipsub = (this.#node().services as Partial<Services>).pubsub
    if (gossipsub === undefined) throw new InvalidInputError('this node runs without gossipsub (NetInit.lean.pubsub)')
    return gossipsub
  })

  constructor(init: NetInit, components: NetComponents) {
    this.#init = init
    this.#components = components
    this.#log = components.logger.forComponent('lateral:net')
    this.#guard = new PeerGuard(init.guard)
    this.#guard.onBan((ban) => {
      this.#log.warn('peer banned', {
        peerId: ban.peerId,
        until: new Date(ban.until).toISOString(),
        reason: ban.reason,
      })
      // Cut at once, not closed gracefully: a graceful close waits on the peer (up to libp2p's
      // close timeout), and a hostile peer is owed no goodbye.
      const node = this.#running?.node
      for (const connection of node?.getConnections(parsePeerId(ban.peerId)) ?? []) {
        connection.abort(new Error(`peer banned: ${ban.reason}`))
      }
    })
    this.#dialer = new Dialer(
      this.#node,
      this.#peers,
      init.dialTimeoutMs,
      init.relayDialAttempts ?? DEFAULT_RELAY_DIAL_ATTEMPTS,
    )
    this.#autoDial = new AutoDialer(
      { ...init, isBanned: (peerId) => this.#guard.isBanned(peerId) },
      this.#peers,
      this.#log,
    )
    this.#protocols = new Protocols(this.#node, this.#log)
    this.#relayPicker = new RelayPicker(init.relayReservations ?? DEFAULT_RELAY_RESERVATIONS, this.#log)
    this.#directUpgrader = new DirectUpgrader(init.directUpgrade ?? {}, this.#log)
    this.#relayGate = new RelayGate(
      {
        mode: init.relayServer?.enabled ?? false,
        ...(init.relayServer?.maxCircuitsPerPeer === undefined
          ? {}
          : { maxCircuitsPerPeer: init.relayServer.maxCircuitsPerPeer }),
        ...(init.relayServer?.maxReservationsPerIp === undefined
          ? {}
          : { maxReservationsPerIp: init.relayServer.maxReservationsPerIp }),
      },
      this.#log,
    )
  }

  get peerId(): string {
    if (this.#peerId === '') throw new NotStartedError('the network is not started')
    return this.#peerId
  }

  isStarted(): boolean {
    return this.#running !== undefined
  }

  async start(): Promise<void> {
    if (this.#running !== undefined) return
    const running = await startLibp2p(this.#init, this.#components.datastore, this.#guard, (events) => {
      this.#observed.listen(events)
      this.#relayPicker.listen(events)
      this.#directUpgrader.listen(events)
    })
    this.#running = running
    this.#peerId = running.node.peerId.toString()
    this.#peers.attach(running.node)
    this.#events.attach(running.node)
    this.#autoDial.attach(running.node)
    this.#relayPicker.attach(running.node)
    this.#directUpgrader.attach(running.node)
    await this.#relayGate.attach(running.node)
    this.#unwatch = watchInbound(running.node, this.#guard, this.#log)
    running.node.addEventListener('connection:open', this.#onOpen)
    this.#log.info('network started', { peerId: this.#peerId, addresses: this.addresses() })
  }

  async stop(): Promise<void> {
    const running = this.#running
    if (running === undefined) return
    this.#running = undefined
    // First, while everything still runs: peers told we are leaving do not redial us.
    await this.#autoDial.sayGoodbye()
    running.node.removeEventListener('connection:open', this.#onOpen)
    this.#unwatch()
    this.#relayPicker.detach()
    this.#directUpgrader.detach()
    this.#relayGate.detach()
    this.#observed.detach()
    this.#autoDial.detach(running.node)
    this.#events.detach(running.node)
    this.#peers.detach(running.node)
    await running.node.stop()
    running.registry?.clear()
    this.#log.info('network stopped')
  }

  addresses(): string[] {
    return addressesOf(this.#node())
  }

  protocols(): string[] {
    return this.#protocols.list()
  }

  connections(): Promise<PeerConnection[]> {
    return this.#peers.connections()
  }

  async connect(target: string, options: ConnectOptions = {}): Promise<PeerConnection> {
    const dialTarget = parseTarget(target)
    const named = isPeerId(dialTarget)
      ? dialTarget
      : dialTarget.getComponents().findLast((c) => c.name === 'p2p')?.value
    // The gater keys peers by their canonical ID (a peer ID may also be written as a CID).
    const peerId = named === undefined ? undefined : parsePeerId(named.toString()).toString()
    if (peerId !== undefined) {
      if (options.respectHold !== true) this.#guard.release(peerId)
      else if (this.#guard.refuses(peerId))
        throw new PeerUnreachableError(`${peerId} is refused here: this node hung up on it or banned it`)
    }
    return this.#dialer.connect(target, options)
  }

  /**
   * A peer held after a hang-up that dials in is told goodbye and hung up on again. Refused by the
   * gater instead, it saw its connection end as a crash would, redialled every
   * `redialIntervalMs`, and got in by itself once the hold ended.
   */
  readonly #onOpen = (evt: CustomEvent<Connection>): void => {
    const peer = evt.detail.remotePeer
    if (!this.#guard.isHeld(peer.toString())) return
    void (async () => {
      await this.#autoDial.hangingUp(peer)
      await this.#dialer.disconnect(peer.toString())
    })().catch((err: unknown) => this.#log.debug('cannot hang up on a held peer', errorFields(err)))
  }

  async disconnect(peerId: string, options?: AbortOptions): Promise<HangUp> {
    const peer = parsePeerId(peerId)
    const id = peer.toString()
    const open = this.#node()
      .getConnections(peer)
      .filter((c) => c.status === 'open').length
    // Refused from now on: nothing here dials it again (the DHT's queries would, within a
    // second), and a connection it opens meanwhile ends once TLS names it. The goodbye goes on
    // the connections already open.
    const refusedUntil = this.#guard.hold(id)
    // On purpose: not a lost peer to redial, here or there (the close alone cannot tell it).
    await this.#autoDial.hangingUp(peer)
    await this.#dialer.disconnect(id, options)
    return { peerId: id, connections: open, refusedUntil }
  }

  ping(target: string, options?: AbortOptions): Promise<number> {
    return this.#dialer.ping(target, options)
  }

  traffic(): TrafficTotals | undefined {
    const traffic = this.#running?.traffic
    return traffic === undefined ? undefined : { ...traffic.totals }
  }

  reachability(): ReachabilityReport {
    return this.#report({ enabled: this.#node().services.upnp !== undefined, mappings: [] })
  }

  async diagnose(options: AbortOptions = {}): Promise<ReachabilityReport> {
    const upnp = this.#node().services.upnp
    const probe =
      upnp === undefined
        ? { enabled: false, mappings: [] }
        : await upnpProbe(upnp.portMappingClient, withDefaultTimeout(options, this.#init.dialTimeoutMs))
    return this.#report(probe)
  }

  #report(upnp: ReachabilityReport['upnp']): ReachabilityReport {
    const node = this.#node()
    const addresses = internalsOf(node).addressManager.getAddressesWithMetadata()
    const mappings = addresses.filter((a) => a.type === 'ip-mapping').map((a) => a.multiaddr.toString())
    return reachabilityReport({
      addresses,
      announced: this.addresses(),
      observed: this.#observed.list(),
      upnp: { ...upnp, mappings: [...new Set([...upnp.mappings, ...mappings])] },
      relayServer: {
        enabled: this.#relayGate.serving,
        reservations: (node.services.relay as { reservations?: { size: number } } | undefined)?.reservations?.size ?? 0,
      },
      punch: {
        enabled: node.services.punch !== undefined,
        ...(node.services.punch?.stats ?? { attempted: 0, succeeded: 0, failed: 0 }),
      },
    })
  }

  dht(): DhtStatus {
    return this.#routing.dht()
  }

  findPeer(peerId: string, options?: DhtQueryOptions): Promise<string[]> {
    return this.#routing.findPeer(peerId, options)
  }

  closestPeers(key: Uint8Array, options?: DhtQueryOptions): AsyncGenerator<string> {
    return this.#routing.closestPeers(key, options)
  }

  provide(cid: string, options?: AbortOptions): Promise<void> {
    return this.#routing.provide(cid, options)
  }

  findProviders(cid: string, options?: DhtQueryOptions): AsyncGenerator<{ peerId: string; addresses: string[] }> {
    return this.#routing.findProviders(cid, options)
  }

  knownPeers(): Promise<Array<{ peerId: string; addresses: string[] }>> {
    return this.#peers.knownPeers()
  }

  handle(protocol: string, handler: ProtocolHandler, options?: HandleOptions): Promise<void> {
    return this.#protocols.handle(protocol, handler, options)
  }

  unhandle(protocol: string): Promise<void> {
    return this.#protocols.unhandle(protocol)
  }

  openStream(peerId: string, protocol: string, options?: OpenStreamOptions): Promise<ProtocolStream> {
    return this.#protocols.openStream(peerId, protocol, options)
  }

  penalize(peerId: string, points: number, reason: string): void {
    const total = this.#guard.penalize(peerId, points, reason)
    this.#log.info('peer penalised', { peerId, points, total: Math.round(total * 100) / 100, reason })
  }

  penalty(peerId: string): number {
    return this.#guard.penalty(peerId)
  }

  bans(): Array<{ peerId: string; until: number; reason: string }> {
    return this.#guard.bans()
  }

  publicKeyOf(peerId: string): Uint8Array {
    const key = parsePeerId(peerId).publicKey
    if (key === undefined || key.type !== 'Ed25519') {
      throw new InvalidInputError(`peer ${peerId} has no embedded Ed25519 key`)
    }
    return key.raw
  }

  leaseBuffer(buffer: ArrayBuffer, bytes: number, release: () => void): void {
    leaseBuffer(buffer, bytes, release)
  }

  releaseReceived(views: readonly Uint8Array[]): number {
    return releaseReceived(views)
  }

  async metricsText(): Promise<string> {
    const running = this.#running
    if (running?.registry === undefined) return ''
    running.traffic?.syncMetrics()
    return running.registry.metrics()
  }

  addEventListener<K extends keyof NetEvents>(
    type: K,
    listener: (evt: NetEvents[K]) => void,
    options?: boolean | { once?: boolean; signal?: AbortSignal },
  ): void {
    this.#events.addEventListener(type, listener, options)
  }

  removeEventListener<K extends keyof NetEvents>(
    type: K,
    listener: (evt: NetEvents[K]) => void,
    options?: boolean,
  ): void {
    this.#events.removeEventListener(type, listener, options)
  }
}

function withDefaultTimeout(options: AbortOptions, ms: number): AbortOptions {
  return { signal: options.signal ?? AbortSignal.timeout(ms) }
}

export function createNet(init: NetInit, components: NetComponents): Net {
  return new Libp2pNet(init, components)
}
