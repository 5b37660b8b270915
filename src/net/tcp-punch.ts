/**
 * TCP hole punching between two NATed peers, on Node, without SO_REUSEPORT (docs/protocols/punch.md).
 *
 * libp2p's DCUtR cannot punch TCP on Node: it dials from the listen port, which Node cannot do
 * while a listener holds it (libp2p #2620), so identify drops observed TCP addresses and DCUtR
 * has nothing to try. Here each side picks a fresh local port instead, and both connect from it
 * to the other's public address at the same moment (TCP simultaneous open). A NAT that keeps
 * the source port (endpoint-independent mapping: most home routers, Linux `masquerade`, carrier
 * NATs per RFC 6888) maps that port to the same public port, so the other side can aim at it;
 * each side's outgoing SYN opens its own NAT for the other's. A NAT that picks a new port per
 * connection (a "hard", symmetric NAT) defeats it, as it defeats every hole punching.
 *
 * Over the relayed connection, on PUNCH_PROTOCOL: the peer that dialled through the relay (A)
 * sends CONNECT {ip, port}: its public IP (what peers observed on its direct connections) and the
 * local port it chose; B answers with its own; A measures the round trip, sends SYNC and connects
 * after half a round trip, B connects when SYNC arrives. Each connects from its chosen port, again
 * after a refusal, until the punch's timeout. The TCP socket is then upgraded by libp2p's upgrader
 * (Noise, then yamux): A as the initiator, B as the responder, and each checks the peer ID. The
 * new connection is direct; src/net/direct-upgrade.ts then closes the relayed one.
 */
import { createServer, Socket } from 'node:net'
import type {
  AbortOptions,
  ComponentLogger,
  Connection,
  IdentifyResult,
  Logger,
  PeerId,
  PeerStore,
  Stream,
  StreamHandlerOptions,
  Topology,
  Upgrader,
  UpgraderOptions,
} from '@libp2p/interface'
import { AbstractMultiaddrConnection, lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { sleep } from '../core/abort.ts'
import {
  DEFAULT_PUNCH_ATTEMPTS,
  DEFAULT_PUNCH_DELAY_MS,
  DEFAULT_PUNCH_MAX_CONCURRENT,
  DEFAULT_PUNCH_TIMEOUT_MS,
  PUNCH_MAX_MESSAGE_BYTES,
  PUNCH_PROTOCOL,
  PUNCH_RECONNECT_MS,
} from '../core/constants.ts'
import { isRelayed, publicDialable } from './direct-upgrade.ts'
import { isPublicIp } from './reachability.ts'
import type { PunchInit } from './types.ts'

/** The part of libp2p's registrar used here (its type lives in @libp2p/interface-internal). */
interface Registrar {
  handle(
    protocol: string,
    handler: (stream: Stream, connection: Connection) => void | Promise<void>,
    options?: StreamHandlerOptions,
  ): Promise<void>
  unhandle(protocol: string): Promise<void>
  register(protocol: string, topology: Topology): Promise<string>
  unregister(id: string): void
}

export interface PunchComponents {
  peerId: PeerId
  registrar: Registrar
  upgrader: Upgrader
  peerStore: PeerStore
  events: EventTarget
  logger: ComponentLogger
  connectionManager: { getConnections(peerId?: PeerId): Connection[] }
}

type Message = { type: 'connect'; ip: string; port: number } | { type: 'sync' }

/** Outcome counters, for `lateral doctor` and the benchmark. */
export interface PunchStats {
  attempted: number
  succeeded: number
  failed: number
  lastError?: string
}

export class TcpPunch {
  readonly #c: PunchComponents
  readonly #log: Logger
  readonly #timeoutMs: number
  readonly #delayMs: number
  readonly #attempts: number
  readonly #maxConcurrent: number
  #running = 0
  #started = false
  #topology: string | undefined
  /** Our public IPv4 addresses as peers observed them, newest first, by how often seen. */
  readonly #observed = new Map<string, number>()
  readonly #timers = new Set<NodeJS.Timeout>()
  readonly #busy = new Set<string>()
  readonly stats: PunchStats = { attempted: 0, succeeded: 0, failed: 0 }

  constructor(components: PunchComponents, init: PunchInit = {}) {
    this.#c = components
    this.#log = components.logger.forComponent('lateral:punch')
    this.#timeoutMs = init.timeoutMs ?? DEFAULT_PUNCH_TIMEOUT_MS
    this.#delayMs = init.delayMs ?? DEFAULT_PUNCH_DELAY_MS
    this.#attempts = init.attempts ?? DEFAULT_PUNCH_ATTEMPTS
    this.#maxConcurrent = init.maxConcurrent ?? DEFAULT_PUNCH_MAX_CONCURRENT
  }

  readonly [Symbol.toStringTag] = 'lateral:punch'

  async start(): Promise<void> {
    this.#started = true
    this.#c.events.addEventListener('peer:identify', this.#onIdentify as (evt: Event) => void)
    await this.#c.registrar.handle(PUNCH_PROTOCOL, (stream, connection) => this.#respond(stream, connection), {
      runOnLimitedConnection: true,
      maxInboundStreams: 1,
      maxOutboundStreams: 1,
    })
    this.#topology = await this.#c.registrar.register(PUNCH_PROTOCOL, {
      notifyOnLimitedConnection: true,
      onConnect: (peerId, connection) => {
        // The peer that dialled through the relay leads; the other answers.
        if (isRelayed(connection) && connection.direction === 'outbound') this.#schedule(peerId, connection, 0)
      },
    })
  }

  async stop(): Promise<void> {
    this.#started = false
    this.#c.events.removeEventListener('peer:identify', this.#onIdentify as (evt: Event) => void)
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    await this.#c.registrar.unhandle(PUNCH_PROTOCOL)
    if (this.#topology !== undefined) this.#c.registrar.unregister(this.#topology)
  }

  /** Our public IPv4 address as most peers observed it on direct connections. */
  publicIp(): string | undefined {
    let best: string | undefined
    let count = 0
    for (const [ip, n] of this.#observed) {
      if (n > count) {
        best = ip
        count = n
      }
    }
    return best
  }

  readonly #onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { observedAddr, connection } = evt.detail
    if (observedAddr === undefined || isRelayed(connection)) return
    const ip = /^\/ip4\/([^/]+)\/tcp\//.exec(observedAddr.toString())?.[1]
    if (ip === undefined || !isPublicIp(ip)) return
    this.#observed.set(ip, (this.#observed.get(ip) ?? 0) + 1)
  }

  #directTo(peerId: PeerId): boolean {
    return this.#c.connectionManager.getConnections(peerId).some((c) => !isRelayed(c) && c.status === 'open')
  }

  #schedule(peerId: PeerId, relayed: Connection, attempt: number): void {
    if (!this.#started || attempt >= this.#attempts) return
    const timer = setTimeout(
      () => {
        this.#timers.delete(timer)
        if (!this.#started || relayed.status !== 'open' || this.#directTo(peerId)) {
          this.#log('no punch to %p: %s', peerId, this.#directTo(peerId) ? 'already direct' : 'relayed connection gone')
          return
        }
        void this.#lead(peerId, relayed).then((ok) => {
          if (!ok) this.#schedule(peerId, relayed, attempt + 1)
        })
      },
      this.#delayMs * 2 ** attempt,
    )
    timer.unref()
    this.#timers.add(timer)
  }

  /** Whether the peer has a public address: then it is dialled directly (direct-upgrade.ts), no punch needed. */
  async #peerIsPublic(peerId: PeerId): Promise<boolean> {
    try {
      const peer = await this.#c.peerStore.get(peerId)
      return peer.addresses.some((a) => publicDialable(a.multiaddr))
    } catch {
      return false
    }
  }

  /** A: punch towards the peer of this relayed connection; true once a direct connection exists. */
  async #lead(peerId: PeerId, relayed: Connection): Promise<boolean> {
    const ip = this.publicIp()
    const key = peerId.toString()
    if (ip === undefined) {
      this.#log('no punch to %p yet: no public IPv4 address of ours observed', peerId)
      return false
    }
    if (this.#busy.has(key)) return false
    if (await this.#peerIsPublic(peerId)) {
      this.#log('no punch to %p: it has a public address, dialled directly instead', peerId)
      return false
    }
    this.#busy.add(key)
    this.stats.attempted++
    const signal = AbortSignal.timeout(this.#timeoutMs)
    let stream: Stream | undefined
    try {
      stream = await relayed.newStream(PUNCH_PROTOCOL, { signal, runOnLimitedConnection: true })
      const lp = lpStream(stream, { maxDataLength: PUNCH_MAX_MESSAGE_BYTES })
      const port = await freePort()
      const t0 = Date.now()
      await lp.write(encode({ type: 'connect', ip, port }), { signal })
      const theirs = decode(await lp.read({ signal }))
      if (theirs.type !== 'connect') throw new Error('expected CONNECT')
      const rtt = Date.now() - t0
      await lp.write(encode({ type: 'sync' }), { signal })
      await sleep(rtt / 2, signal)
      const conn = await this.#punch(peerId, port, theirs.ip, theirs.port, true, signal)
      this.stats.succeeded++
      this.#log('punched through to %p at %a (rtt %d ms)', peerId, conn.remoteAddr, rtt)
      await stream.close({ signal }).catch(() => {})
      return true
    } catch (err) {
      this.stats.failed++
      this.stats.lastError = (err as Error).message
      this.#log('punch to %p failed: %s', peerId, (err as Error).message)
      stream?.abort(err as Error)
      return this.#directTo(peerId)
    } finally {
      this.#busy.delete(key)
    }
  }

  /** B: answer a punch. */
  async #respond(stream: Stream, relayed: Connection): Promise<void> {
    const peerId = relayed.remotePeer
    const ip = this.publicIp()
    if (!isRelayed(relayed) || ip === undefined || this.#running >= this.#maxConcurrent || this.#directTo(peerId)) {
      stream.abort(new Error('no punch now'))
      return
    }
    this.#running++
    const signal = AbortSignal.timeout(this.#timeoutMs)
    try {
      const lp = lpStream(stream, { maxDataLength: PUNCH_MAX_MESSAGE_BYTES })
      const theirs = decode(await lp.read({ signal }))
      if (theirs.type !== 'connect') throw new Error('expected CONNECT')
      const port = await freePort()
      await lp.write(encode({ type: 'connect', ip, port }), { signal })
      const sync = decode(await lp.read({ signal }))
      if (sync.type !== 'sync') throw new Error('expected SYNC')
      const conn = await this.#punch(peerId, port, theirs.ip, theirs.port, false, signal)
      this.#log('punched through from %p at %a', peerId, conn.remoteAddr)
      await stream.close({ signal }).catch(() => {})
    } catch (err) {
      this.#log('answering a punch from %p failed: %s', peerId, (err as Error).message)
      stream.abort(err as Error)
    } finally {
      this.#running--
    }
  }

  /** Connect from `localPort` to ip:port until it works or the signal ends; upgrade the socket. */
  async #punch(
    peerId: PeerId,
    localPort: number,
    ip: string,
    port: number,
    initiator: boolean,
    signal: AbortSignal,
  ): Promise<Connection> {
    let socket: Socket | undefined
    let lastError = 'timed out'
    while (socket === undefined) {
      if (signal.aborted) throw new Error(`no TCP connection to ${ip}:${port} from port ${localPort}: ${lastError}`)
      try {
        socket = await connectFrom(localPort, ip, port, signal)
      } catch (err) {
        lastError = (err as NodeJS.ErrnoException).code ?? (err as Error).message
        await sleep(PUNCH_RECONNECT_MS, signal).catch(() => {})
      }
    }
    const remoteAddr = multiaddr(`/ip4/${ip}/tcp/${port}/p2p/${peerId.toString()}`)
    // The direction decides the muxer's side too (yamux: the outbound end is the client, and two
    // clients refuse each other): the responder's end counts as inbound.
    const maConn = new PunchedConnection(socket, remoteAddr, initiator ? 'outbound' : 'inbound', this.#log)
    try {
      // Simultaneous open: no TCP side is the dialler. A leads Noise and multistream-select, B answers.
      return await this.#c.upgrader.upgradeOutbound(maConn, { signal, initiator } satisfies UpgraderOptions)
    } catch (err) {
      maConn.abort(err as Error)
      throw err
    }
  }
}

function encode(m: Message): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(m))
}

/** A peer's message, checked: a public IPv4 address and a port, or SYNC. */
function decode(bytes: { subarray(): Uint8Array }): Message {
  const m = JSON.parse(new TextDecoder().decode(bytes.subarray())) as Partial<Message> & Record<string, unknown>
  if (m.type === 'sync') return { type: 'sync' }
  if (
    m.type === 'connect' &&
    typeof m.ip === 'string' &&
    isPublicIp(m.ip) &&
    /^\d+\.\d+\.\d+\.\d+$/.test(m.ip) &&
    Number.isInteger(m.port) &&
    (m.port as number) >= 1024 &&
    (m.port as number) <= 65535
  ) {
    return { type: 'connect', ip: m.ip, port: m.port as number }
  }
  throw new Error('malformed punch message')
}

/** A free local TCP port (the kernel's choice), released for the punch's connects to bind. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '0.0.0.0', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** One TCP connect from `localPort` (libuv binds with SO_REUSEADDR, so the port can be bound again after a refusal). */
function connectFrom(localPort: number, host: string, port: number, signal: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = new Socket()
    const onAbort = () => {
      socket.destroy()
      reject(new Error('aborted'))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort)
      socket.removeAllListeners('error')
      resolve(socket)
    })
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      reject(err)
    })
    socket.connect({ host, port, localPort, noDelay: true })
  })
}

/**
 * A punched TCP socket as libp2p's MultiaddrConnection (the same shape as @libp2p/tcp's own,
 * `socket` included: native-tls.ts runs TLS on it, traffic.ts counts its bytes).
 */
class PunchedConnection extends AbstractMultiaddrConnection {
  readonly socket: Socket

  constructor(
    socket: Socket,
    remoteAddr: ReturnType<typeof multiaddr>,
    direction: 'inbound' | 'outbound',
    log: Logger,
  ) {
    super({
      remoteAddr,
      direction,
      log: log.newScope('connection'),
      inactivityTimeout: 2 * 60_000,
    })
    this.socket = socket
    socket.on('data', (buf) => this.onData(buf))
    socket.on('error', (err) => this.abort(err))
    socket.setTimeout(2 * 60_000)
    socket.once('timeout', () => this.abort(new Error('TCP inactivity timeout')))
    socket.once('end', () => this.onTransportClosed())
    socket.once('close', (hadError) => {
      if (hadError) this.abort(new Error('TCP transmission error'))
      else this.onTransportClosed()
    })
    socket.on('drain', () => this.safeDispatchEvent('drain'))
  }

  sendData(data: { [Symbol.iterator](): Iterator<Uint8Array> }) {
    let sentBytes = 0
    let canSendMore = true
    for (const buf of data) {
      sentBytes += buf.byteLength
      canSendMore = this.socket.write(buf)
      if (!canSendMore) break
    }
    return { sentBytes, canSendMore }
  }

  async sendClose(options?: AbortOptions): Promise<void> {
    if (this.socket.destroyed) return
    this.socket.destroySoon()
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(options?.signal?.reason)
      options?.signal?.addEventListener('abort', onAbort, { once: true })
      this.socket.once('close', () => {
        options?.signal?.removeEventListener('abort', onAbort)
        resolve()
      })
    })
  }

  sendReset(): void {
    if (this.socket.writableEnded) this.socket.destroy()
    else this.socket.resetAndDestroy()
  }

  sendPause(): void {
    this.socket.pause()
  }

  sendResume(): void {
    this.socket.resume()
  }
}
