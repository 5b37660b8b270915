/**
 * A libp2p transport for simulations: in-process connections like `@libp2p/memory`'s, addressed
 * `/memory/NAME`, but every chunk crosses a link of a `SimFabric` (sim-fabric.ts) that applies that
 * link's latency and loss, holds traffic across partitions and swallows it for vanished peers.
 * The memory transport's own `latency` option delays each chunk in series (one chunk per latency
 * period, a bandwidth cap) and is one figure for every link; this one delays chunks in parallel
 * and per link.
 */
import {
  ConnectionFailedError,
  type CreateListenerOptions,
  type DialTransportOptions,
  type Listener,
  type ListenerEvents,
  type Logger,
  type MultiaddrConnection,
  type PeerId,
  StreamResetError,
  serviceCapabilities,
  type Transport,
  TypedEventEmitter,
  transportSymbol,
  type Upgrader,
} from '@libp2p/interface'
import { AbstractMultiaddrConnection } from '@libp2p/utils'
import { CODE_P2P, type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { Memory } from '@multiformats/multiaddr-matcher'
import type { FabricListener, SimFabric } from './sim-fabric.ts'

interface SimTransportComponents {
  peerId: PeerId
  logger: { forComponent(name: string): Logger }
}

type Chunks = Parameters<AbstractMultiaddrConnection['sendData']>[0]
type Pending = { data: Uint8Array; bytes: number } | { end: 'close' | 'reset' }

let connectionIds = 0

/** One end of a simulated connection; what it sends reaches `remote` across the fabric. */
class SimConnection extends AbstractMultiaddrConnection {
  remote: SimConnection | undefined
  readonly #fabric: SimFabric
  readonly #from: string
  readonly #to: string
  /** In-order delivery: chunks waiting for their time, the head's timer armed. */
  readonly #queue: Array<{ at: number; item: Pending }> = []
  /** Chunks written while the link was cut, in order. */
  readonly #held: Pending[] = []
  #lastAt = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #unwatch: (() => void) | undefined

  constructor(
    fabric: SimFabric,
    from: string,
    to: string,
    init: { remoteAddr: Multiaddr; direction: 'inbound' | 'outbound'; log: Logger },
  ) {
    super(init)
    this.#fabric = fabric
    this.#from = from
    this.#to = to
  }

  sendData(data: Chunks): { sentBytes: number; canSendMore: boolean } {
    const bytes = data.byteLength
    this.#send({ data: data.subarray(), bytes })
    return { sentBytes: bytes, canSendMore: true }
  }

  sendReset(): void {
    this.#send({ end: 'reset' })
  }

  async sendClose(): Promise<void> {
    this.#send({ end: 'close' })
  }

  sendPause(): void {
    // Like the memory transport: no read back-pressure across the fabric.
  }

  sendResume(): void {}

  #send(item: Pending): void {
    if (this.#held.length > 0) {
      this.#held.push(item)
      return
    }
    this.#route(item)
  }

  #route(item: Pending): boolean {
    const route = this.#fabric.route(this.#from, this.#to, 'bytes' in item ? item.bytes : 0)
    if (route.kind === 'drop') return true
    if (route.kind === 'hold') {
      this.#held.push(item)
      this.#unwatch ??= this.#fabric.onChange(() => this.#flushHeld())
      return false
    }
    const at = Math.max(performance.now() + route.delayMs, this.#lastAt)
    this.#lastAt = at
    this.#queue.push({ at, item })
    if (this.#queue.length === 1) this.#arm()
    return true
  }

  #flushHeld(): void {
    while (this.#held.length > 0) {
      const item = this.#held.shift() as Pending
      if (!this.#route(item)) {
        // Still cut: #route put it back at the end; restore the order.
        this.#held.unshift(this.#held.pop() as Pending)
        return
      }
    }
    this.#unwatch?.()
    this.#unwatch = undefined
  }

  #arm(): void {
    const head = this.#queue[0]
    if (head === undefined) return
    const wait = head.at - performance.now()
    this.#timer = setTimeout(() => this.#deliver(), Math.max(0, wait))
  }

  #deliver(): void {
    this.#timer = undefined
    const t = performance.now()
    while (this.#queue.length > 0 && (this.#queue[0] as { at: number }).at <= t + 0.5) {
      const { item } = this.#queue.shift() as { item: Pending }
      const remote = this.remote
      if (remote === undefined) continue
      if ('data' in item) remote.onData(item.data)
      else if (item.end === 'close') remote.onTransportClosed()
      else remote.abort(new StreamResetError('the remote end reset the connection'))
    }
    this.#arm()
  }

  /** Local teardown: no more deliveries from this end. */
  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#unwatch?.()
  }
}

class SimListener extends TypedEventEmitter<ListenerEvents> implements Listener, FabricListener {
  readonly peerId: string
  readonly #fabric: SimFabric
  readonly #upgrader: Upgrader
  readonly #shutdown = new AbortController()
  #address: string | undefined
  readonly connections = new Set<SimConnection>()

  constructor(fabric: SimFabric, peerId: string, upgrader: Upgrader) {
    super()
    this.#fabric = fabric
    this.peerId = peerId
    this.#upgrader = upgrader
  }

  async listen(ma: Multiaddr): Promise<void> {
    const name = ma.getComponents()[0]?.value
    const address = `/memory/${name ?? `sim-${this.peerId}`}`
    if (!this.#fabric.register(address, this)) throw new ConnectionFailedError(`address ${address} already in use`)
    this.#address = address
    queueMicrotask(() => this.safeDispatchEvent('listening'))
  }

  accept(conn: SimConnection): void {
    this.connections.add(conn)
    conn.addEventListener('close', () => this.connections.delete(conn))
    this.#upgrader.upgradeInbound(conn, { signal: this.#shutdown.signal }).catch((err: Error) => conn.abort(err))
  }

  getAddrs(): Multiaddr[] {
    return this.#address === undefined ? [] : [multiaddr(this.#address)]
  }

  updateAnnounceAddrs(): void {}

  async close(): Promise<void> {
    for (const c of [...this.connections]) c.abort(new ConnectionFailedError('listener closed'))
    if (this.#address !== undefined) this.#fabric.unregister(this.#address, this)
    this.#shutdown.abort()
    queueMicrotask(() => this.safeDispatchEvent('close'))
  }
}

class SimTransport implements Transport {
  readonly [transportSymbol] = true as const
  readonly [Symbol.toStringTag] = '@lateral/sim-transport'
  readonly [serviceCapabilities] = ['@libp2p/transport']
  readonly #fabric: SimFabric
  readonly #components: SimTransportComponents
  readonly #log: Logger

  constructor(fabric: SimFabric, components: SimTransportComponents) {
    this.#fabric = fabric
    this.#components = components
    this.#log = components.logger.forComponent('lateral:sim-transport')
  }

  async dial(ma: Multiaddr, options: DialTransportOptions): Promise<import('@libp2p/interface').Connection> {
    options.signal.throwIfAborted()
    const hasPeer = ma.getComponents().some((c) => c.code === CODE_P2P)
    const address = (hasPeer ? ma.decapsulateCode(CODE_P2P) : ma).toString()
    const target = this.#fabric.lookup(address)
    const self = this.#components.peerId.toString()
    if (target === undefined) throw new ConnectionFailedError(`no simulated listener at ${address}`)
    if (target === 'silent' || !this.#fabric.reachable(self, target.peerId)) {
      // A vanished host or a cut link: the connection attempt is never answered.
      await new Promise((_, reject) => {
        options.signal.addEventListener('abort', () => reject(options.signal.reason), { once: true })
      })
    }
    const listener = target as SimListener
    const id = connectionIds++
    const outbound = new SimConnection(this.#fabric, self, listener.peerId, {
      remoteAddr: multiaddr(`${address}/p2p/${listener.peerId}`),
      direction: 'outbound',
      log: this.#log.newScope(`connection:${id}`),
    })
    const inbound = new SimConnection(this.#fabric, listener.peerId, self, {
      remoteAddr: multiaddr(`${address}-outgoing/p2p/${self}`),
      direction: 'inbound',
      log: this.#log.newScope(`connection:${id}:in`),
    })
    outbound.remote = inbound
    inbound.remote = outbound
    for (const c of [outbound, inbound]) c.addEventListener('close', () => c.dispose())
    // The connection handshake crosses the link once each way.
    const rtt = 2 * this.#fabric.profile(self, listener.peerId).latencyMs
    if (rtt > 0) await new Promise((r) => setTimeout(r, rtt))
    listener.accept(inbound)
    try {
      options.signal.throwIfAborted()
      return await options.upgrader.upgradeOutbound(outbound as MultiaddrConnection, options)
    } catch (err) {
      outbound.abort(err as Error)
      throw err
    }
  }

  createListener(options: CreateListenerOptions): Listener {
    return new SimListener(this.#fabric, this.#components.peerId.toString(), options.upgrader)
  }

  listenFilter(multiaddrs: Multiaddr[]): Multiaddr[] {
    return multiaddrs.filter((ma) => Memory.exactMatch(ma))
  }

  dialFilter(multiaddrs: Multiaddr[]): Multiaddr[] {
    return this.listenFilter(multiaddrs)
  }
}

/** The transport factory for libp2p's `transports` list. */
export function simTransport(fabric: SimFabric): (components: SimTransportComponents) => Transport {
  return (components) => new SimTransport(fabric, components)
}
