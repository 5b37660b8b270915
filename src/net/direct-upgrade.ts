/**
 * Relayed connections become direct ones whenever the other side can be dialled, and relayed
 * connections are closed once a direct one exists.
 *
 * libp2p's DCUtR makes one attempt per relayed connection, when it opens: if the peer's public
 * address is not known yet at that moment (AutoNAT had not confirmed it, as happens under load)
 * the connection stays relayed for good. Here every relayed peer is watched: when it identifies
 * or its addresses change (identify push after AutoNAT or UPnP confirm one), and a few times with
 * a doubling backoff after the relayed connection opens, its public addresses are dialled
 * directly. Either side can do it: the NATed side dials the public one.
 *
 * Once a direct connection to a peer exists, its relayed connections are closed as soon as they
 * carry no Lateral stream (new streams already go to the direct connection), or after a grace
 * period at most, so a transfer that started over the relay moves to the direct connection.
 */
import type { Connection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import {
  DEFAULT_DIRECT_UPGRADE_ATTEMPTS,
  DEFAULT_DIRECT_UPGRADE_BACKOFF_MS,
  DEFAULT_DIRECT_UPGRADE_TIMEOUT_MS,
  DEFAULT_RELAYED_CLOSE_CHECK_MS,
  DEFAULT_RELAYED_CLOSE_GRACE_MS,
  PROTOCOL_PREFIX,
} from '../core/constants.ts'
import type { Logger } from '../core/logger.ts'
import { isPublicIp } from './reachability.ts'
import type { DirectUpgradeInit } from './types.ts'

export function isRelayed(connection: Connection): boolean {
  return connection.remoteAddr.toString().includes('/p2p-circuit')
}

/** A public IP address with a TCP port, not through a relay: something a NATed node can dial. */
export function publicDialable(address: Multiaddr): boolean {
  const s = address.toString()
  if (s.includes('/p2p-circuit')) return false
  const m = /^\/ip[46]\/([^/]+)\/tcp\/\d+(\/p2p\/[^/]+)?$/.exec(s)
  return m !== null && isPublicIp(m[1] as string)
}

export class DirectUpgrader {
  readonly #log: Logger
  readonly #attempts: number
  readonly #backoffMs: number
  readonly #timeoutMs: number
  readonly #closeGraceMs: number
  readonly #closeCheckMs: number
  #events: EventTarget | undefined
  #node: Libp2p | undefined
  /** Peers with a direct dial under way. */
  readonly #dialling = new Set<string>()
  /** Retry timers per relayed peer. */
  readonly #retries = new Map<string, { timer: NodeJS.Timeout; attempt: number }>()
  /** Relayed connections waiting to be closed, by connection id. */
  readonly #closing = new Map<string, NodeJS.Timeout>()

  constructor(init: DirectUpgradeInit, log: Logger) {
    this.#log = log
    this.#attempts = init.attempts ?? DEFAULT_DIRECT_UPGRADE_ATTEMPTS
    this.#backoffMs = init.backoffMs ?? DEFAULT_DIRECT_UPGRADE_BACKOFF_MS
    this.#timeoutMs = init.timeoutMs ?? DEFAULT_DIRECT_UPGRADE_TIMEOUT_MS
    this.#closeGraceMs = init.closeGraceMs ?? DEFAULT_RELAYED_CLOSE_GRACE_MS
    this.#closeCheckMs = init.closeCheckMs ?? DEFAULT_RELAYED_CLOSE_CHECK_MS
  }

  listen(events: EventTarget): void {
    this.#events = events
    events.addEventListener('connection:open', this.#onOpen as (evt: Event) => void)
    events.addEventListener('peer:identify', this.#onIdentify as (evt: Event) => void)
    events.addEventListener('peer:update', this.#onUpdate as (evt: Event) => void)
  }

  attach(node: Libp2p): void {
    this.#node = node
  }

  detach(): void {
    this.#events?.removeEventListener('connection:open', this.#onOpen as (evt: Event) => void)
    this.#events?.removeEventListener('peer:identify', this.#onIdentify as (evt: Event) => void)
    this.#events?.removeEventListener('peer:update', this.#onUpdate as (evt: Event) => void)
    this.#events = undefined
    this.#node = undefined
    for (const { timer } of this.#retries.values()) clearTimeout(timer)
    for (const timer of this.#closing.values()) clearTimeout(timer)
    this.#retries.clear()
    this.#closing.clear()
  }

  readonly #onOpen = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail
    const peer = connection.remotePeer.toString()
    if (isRelayed(connection)) {
      // DCUtR tries at once; ours follow with a backoff, and on every news of the peer's addresses.
      this.#schedule(peer, 0)
    } else {
      this.#cancelRetries(peer)
      this.#closeRelayed(connection.remotePeer)
    }
  }

  readonly #onIdentify = (evt: CustomEvent<{ peerId: PeerId }>): void => {
    this.#tryNow(evt.detail.peerId.toString())
  }

  readonly #onUpdate = (evt: CustomEvent<{ peer: { id: PeerId } }>): void => {
    this.#tryNow(evt.detail.peer.id.toString())
  }

  #connections(peer: string): Connection[] {
    return (this.#node?.getConnections() ?? []).filter((c) => c.remotePeer.toString() === peer && c.status === 'open')
  }

  /** Only relayed connections to this peer: a direct one is worth trying. */
  #relayedOnly(peer: string): boolean {
    const conns = this.#connections(peer)
    return conns.length > 0 && conns.every(isRelayed)
  }

  #tryNow(peer: string): void {
    if (this.#relayedOnly(peer)) void this.#attempt(peer)
  }

  #schedule(peer: string, attempt: number): void {
    if (attempt >= this.#attempts || this.#node === undefined) return
    const existing = this.#retries.get(peer)
    if (existing !== undefined) clearTimeout(existing.timer)
    const timer = setTimeout(
      () => {
        this.#retries.delete(peer)
        if (!this.#relayedOnly(peer)) return
        void this.#attempt(peer).then((ok) => {
          if (!ok) this.#schedule(peer, attempt + 1)
        })
      },
      this.#backoffMs * 2 ** attempt,
    )
    timer.unref()
    this.#retries.set(peer, { timer, attempt })
  }

  #cancelRetries(peer: string): void {
    const r = this.#retries.get(peer)
    if (r !== undefined) clearTimeout(r.timer)
    this.#retries.delete(peer)
  }

  /** Dial the peer's public addresses directly; true when a direct connection exists after. */
  async #attempt(peer: string): Promise<boolean> {
    const node = this.#node
    if (node === undefined || this.#dialling.has(peer)) return false
    const relayed = this.#connections(peer).find(isRelayed)
    if (relayed === undefined) return !this.#relayedOnly(peer)
    let addresses: Multiaddr[]
    try {
      const info = await node.peerStore.get(relayed.remotePeer)
      addresses = info.addresses
        .map((a) => a.multiaddr)
        .filter(publicDialable)
        .map((a) => (a.toString().includes('/p2p/') ? a : a.encapsulate(`/p2p/${peer}`)))
    } catch {
      return false
    }
    if (addresses.length === 0) return false
    this.#dialling.add(peer)
    try {
      const conn = await node.dial(addresses, { signal: AbortSignal.timeout(this.#timeoutMs), force: true })
      if (isRelayed(conn)) return false
      this.#log.info('relayed peer reached directly', { peerId: peer, address: conn.remoteAddr.toString() })
      return true
    } catch (err) {
      this.#log.debug('direct dial of a relayed peer failed', {
        peerId: peer,
        addresses: addresses.map(String),
        error: (err as Error).message,
      })
      return false
    } finally {
      this.#dialling.delete(peer)
    }
  }

  /** Close the peer's relayed connections once they carry no Lateral stream (or after the grace). */
  #closeRelayed(peerId: PeerId): void {
    const peer = peerId.toString()
    const started = Date.now()
    for (const relayed of this.#connections(peer).filter(isRelayed)) {
      if (this.#closing.has(relayed.id)) continue
      const check = () => {
        this.#closing.delete(relayed.id)
        if (this.#node === undefined || relayed.status !== 'open') return
        // Only while a direct connection is still there to take over.
        if (!this.#connections(peer).some((c) => !isRelayed(c))) return
        // A stream still negotiating its protocol (none yet) may be one of ours: a direct
        // message opened on the relayed connection a moment before the direct one came.
        const busy = relayed.streams.some((s) => s.protocol === undefined || s.protocol.startsWith(PROTOCOL_PREFIX))
        if (busy && Date.now() - started < this.#closeGraceMs) {
          const timer = setTimeout(check, this.#closeCheckMs)
          timer.unref()
          this.#closing.set(relayed.id, timer)
          return
        }
        this.#log.info('closing a relayed connection: a direct one exists', {
          peerId: peer,
          address: relayed.remoteAddr.toString(),
          streamsLeft: relayed.streams.length,
        })
        relayed
          .close({ signal: AbortSignal.timeout(this.#closeCheckMs * 10) })
          .catch(() => relayed.abort(new Error('closed: a direct connection exists')))
      }
      const timer = setTimeout(check, 0)
      timer.unref()
      this.#closing.set(relayed.id, timer)
    }
  }
}
