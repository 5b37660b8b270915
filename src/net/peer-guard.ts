/**
 * What a hostile peer may cost this node, and what happens when it goes past it.
 *
 * - Penalty points (penalties.ts) that services give for protocol violations, plus points for
 *   streams opened past the peer's stream rate, decay with a half-life. At `banPenalty` points
 *   the peer is **banned**: every connection to it is closed, and for `banMs` the connection
 *   gater refuses it both ways (inbound after the handshake tells who it is, outbound before
 *   dialling). A ban expires by itself; a peer that comes back and misbehaves again is banned again.
 * - **Stream rate**: every inbound stream (before protocol negotiation, so junk protocols count)
 *   and every inbound connection takes tokens from the peer's bucket (`streamBurst`, refilled at
 *   `streamsPerSecond`). A stream past it is reset at once and costs EXCESS_STREAM_PENALTY.
 * - **Hang-up holds**: a peer this node hung up on (net.disconnect) is not dialled for
 *   `hangUpHoldMs`, unless the user connects to it again (which lifts the hold); one that dials
 *   in is told goodbye and hung up on again (net.ts). Not a penalty: the user's choice, and the
 *   DHT's next query would otherwise redial the peer.
 * - **Connections per peer**: a peer with `maxConnectionsPerPeer` open connections has a further
 *   one closed at once (libp2p reuses one connection per peer; only a hostile peer opens more).
 *
 * libp2p's own limits sit below these (libp2p-options.ts): inbound connections per host per
 * second and pending upgrades (connection manager), streams per protocol per connection
 * (registrar), streams per connection (Yamux).
 */
import {
  CONNECTION_STREAM_COST,
  DEFAULT_BAN_MS,
  DEFAULT_BAN_PENALTY,
  DEFAULT_HANG_UP_HOLD_MS,
  DEFAULT_MAX_BANS,
  DEFAULT_MAX_CONNECTIONS_PER_PEER,
  DEFAULT_PEER_STREAM_BURST,
  DEFAULT_PEER_STREAMS_PER_SECOND,
  DEFAULT_STREAM_RATE_PEERS,
  EXCESS_STREAM_PENALTY,
} from '../core/constants.ts'
import { TokenBuckets } from '../core/token-buckets.ts'
import { PenaltyBook } from './penalties.ts'

export interface PeerGuardInit {
  /** Points at which a peer is banned. Default DEFAULT_BAN_PENALTY. */
  banPenalty?: number
  /** Ban length, ms. Default DEFAULT_BAN_MS. */
  banMs?: number
  maxBans?: number
  /** Inbound streams a peer may open at once. Default DEFAULT_PEER_STREAM_BURST. */
  streamBurst?: number
  /** ...and per second after that. Default DEFAULT_PEER_STREAMS_PER_SECOND. */
  streamsPerSecond?: number
  /** Connections one peer may hold at once. Default DEFAULT_MAX_CONNECTIONS_PER_PEER. */
  maxConnectionsPerPeer?: number
  /** How long a peer this node hung up on is refused, ms (0: not at all). Default DEFAULT_HANG_UP_HOLD_MS. */
  hangUpHoldMs?: number
  /** Penalty half-life, ms (penalties.ts). */
  penaltyHalfLifeMs?: number
}

export interface Ban {
  peerId: string
  /** Unix ms when the ban ends. */
  until: number
  reason: string
}

/** What the guard asks of the node when a peer is banned: close its connections. */
export type OnBan = (ban: Ban) => void

export class PeerGuard {
  readonly #penalties: PenaltyBook
  readonly #bans = new Map<string, Ban>()
  /** Peers hung up on: until when they are refused (Unix ms), oldest first. */
  readonly #holds = new Map<string, number>()
  readonly #hangUpHoldMs: number
  readonly #streams: TokenBuckets
  readonly #banPenalty: number
  readonly #banMs: number
  readonly #maxBans: number
  readonly maxConnectionsPerPeer: number
  #onBan: OnBan = () => {}

  constructor(init: PeerGuardInit = {}) {
    this.#penalties = new PenaltyBook(init.penaltyHalfLifeMs)
    this.#banPenalty = init.banPenalty ?? DEFAULT_BAN_PENALTY
    this.#banMs = init.banMs ?? DEFAULT_BAN_MS
    this.#hangUpHoldMs = init.hangUpHoldMs ?? DEFAULT_HANG_UP_HOLD_MS
    this.#maxBans = init.maxBans ?? DEFAULT_MAX_BANS
    this.#streams = new TokenBuckets(
      init.streamBurst ?? DEFAULT_PEER_STREAM_BURST,
      init.streamsPerSecond ?? DEFAULT_PEER_STREAMS_PER_SECOND,
      DEFAULT_STREAM_RATE_PEERS,
    )
    this.maxConnectionsPerPeer = init.maxConnectionsPerPeer ?? DEFAULT_MAX_CONNECTIONS_PER_PEER
  }

  onBan(handler: OnBan): void {
    this.#onBan = handler
  }

  penalty(peerId: string, now = Date.now()): number {
    return this.#penalties.get(peerId, now)
  }

  /** Add points; returns the new total. At the ban threshold the peer is banned (once). */
  penalize(peerId: string, points: number, reason: string, now = Date.now()): number {
    const total = this.#penalties.add(peerId, points, now)
    if (total >= this.#banPenalty && !this.isBanned(peerId, now)) {
      this.ban(peerId, `${Math.round(total)} penalty points, last: ${reason}`, now)
    }
    return total
  }

  ban(peerId: string, reason: string, now = Date.now()): Ban {
    const ban = { peerId, until: now + this.#banMs, reason }
    this.#bans.delete(peerId)
    this.#bans.set(peerId, ban)
    if (this.#bans.size > this.#maxBans) this.#evictBan(now)
    this.#onBan(ban)
    return ban
  }

  isBanned(peerId: string, now = Date.now()): boolean {
    const ban = this.#bans.get(peerId)
    if (ban === undefined) return false
    if (ban.until > now) return true
    this.#bans.delete(peerId)
    return false
  }

  /** Refuse a peer hung up on for `hangUpHoldMs`: until when (undefined when holds are off). */
  hold(peerId: string, now = Date.now()): number | undefined {
    if (this.#hangUpHoldMs <= 0) return undefined
    const until = now + this.#hangUpHoldMs
    this.#holds.delete(peerId)
    this.#holds.set(peerId, until)
    if (this.#holds.size > this.#maxBans) this.#holds.delete(this.#holds.keys().next().value as string)
    return until
  }

  /** Lift a hang-up's hold (the user connects to the peer again). */
  release(peerId: string): void {
    this.#holds.delete(peerId)
  }

  /** Whether the peer is held after a hang-up now. */
  isHeld(peerId: string, now = Date.now()): boolean {
    const until = this.#holds.get(peerId)
    if (until === undefined) return false
    if (until > now) return true
    this.#holds.delete(peerId)
    return false
  }

  /** Whether this node refuses to dial the peer now: banned, or held after a hang-up. */
  refuses(peerId: string, now = Date.now()): boolean {
    return this.isBanned(peerId, now) || this.isHeld(peerId, now)
  }

  /** Bans in force. */
  bans(now = Date.now()): Ban[] {
    return [...this.#bans.values()].filter((b) => this.isBanned(b.peerId, now))
  }

  /**
   * Take `cost` tokens of the peer's stream rate; false when it is exhausted (the caller resets
   * the stream and the peer is penalised here).
   */
  admitStream(peerId: string, cost = 1, now = Date.now()): boolean {
    if (this.#streams.take(peerId, cost, now)) return true
    this.penalize(peerId, EXCESS_STREAM_PENALTY * cost, 'streams opened past its stream rate', now)
    return false
  }

  /** An inbound connection costs CONNECTION_STREAM_COST streams. */
  admitConnection(peerId: string, now = Date.now()): boolean {
    return this.admitStream(peerId, CONNECTION_STREAM_COST, now)
  }

  #evictBan(now: number): void {
    let first: Ban | undefined
    for (const ban of this.#bans.values()) {
      if (ban.until <= now) this.#bans.delete(ban.peerId)
      else if (first === undefined || ban.until < first.until) first = ban
    }
    if (this.#bans.size > this.#maxBans && first !== undefined) this.#bans.delete(first.peerId)
  }
}
