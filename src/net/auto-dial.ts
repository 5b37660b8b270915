/**
 * Keeping the node connected: discovered peers (mDNS, DHT, bootstrap) are dialled while fewer
 * than `autoDialTarget` are connected, and peers remembered in the persisted peer store are
 * redialled at start, so a restarted node rejoins.
 *
 * Peers lost without a goodbye are redialled every `redialIntervalMs` (with jitter) for
 * `redialForMs`, while fewer than `autoDialTarget` are connected: a peer whose last connection
 * ended in an error (reset, or aborted when pings went unanswered: a crash, a dropped link, the
 * network split). Without it, a node that kept peers on its own side of a split never looked
 * for the others again (auto-dial acts on discovery only, and discovery on a LAN is mDNS
 * alone). A connection closed cleanly, by either side, is a goodbye: not redialled; nor is a
 * banned peer, nor one this node hung up on (even if that close ended in a reset). A remote's
 * clean stop can still reach us as a reset (its close racing a write of ours): that peer is
 * then redialled like a lost one. At most DEFAULT_MAX_LOST_PEERS are remembered.
 */

import type { Connection, PeerId, PeerInfo, StreamCloseEvent } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import {
  DEFAULT_MAX_LOST_PEERS,
  DEFAULT_RECONNECT_AT_START,
  DEFAULT_REDIAL_FOR_MS,
  DEFAULT_REDIAL_INTERVAL_MS,
} from '../core/constants.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import type { Services } from './libp2p-options.ts'
import type { PeerView } from './peers.ts'

/** How long after hanging up on a peer a close that ends in an error still counts as our goodbye, ms. */
const HANG_UP_GRACE_MS = 10_000

export interface AutoDialInit {
  autoDialTarget: number
  dialTimeoutMs: number
  /** How many remembered peers are redialled at start (DEFAULT_RECONNECT_AT_START). */
  reconnectAtStart?: number
  /** How often lost peers are redialled, ms (DEFAULT_REDIAL_INTERVAL_MS). */
  redialIntervalMs?: number
  /** How long a lost peer is redialled, ms (DEFAULT_REDIAL_FOR_MS). */
  redialForMs?: number
  /** Whether a peer is banned now (never redialled). */
  isBanned?: (peerId: string) => boolean
}

export class AutoDialer {
  readonly #init: AutoDialInit
  readonly #peers: PeerView
  readonly #log: Logger
  readonly #dialing = new Set<string>()
  /** Peers lost without a goodbye: when each was lost (oldest first). */
  readonly #lost = new Map<string, number>()
  /** Peers this node hung up on: when (see forget). */
  readonly #hungUp = new Map<string, number>()
  #redialTimer: ReturnType<typeof setTimeout> | undefined
  #node: Libp2p<Services> | undefined

  constructor(init: AutoDialInit, peers: PeerView, log: Logger) {
    this.#init = init
    this.#peers = peers
    this.#log = log
  }

  /** Start dialling discovered peers, and redial remembered ones in the background. */
  attach(node: Libp2p<Services>): void {
    this.#node = node
    node.addEventListener('peer:discovery', this.#onDiscovery)
    node.addEventListener('peer:connect', this.#onConnect)
    node.addEventListener('connection:open', this.#onOpen)
    void this.#reconnectKnownPeers(node.peerId.toString())
    this.#armRedial()
  }

  detach(node: Libp2p<Services>): void {
    node.removeEventListener('peer:discovery', this.#onDiscovery)
    node.removeEventListener('peer:connect', this.#onConnect)
    node.removeEventListener('connection:open', this.#onOpen)
    clearTimeout(this.#redialTimer)
    this.#redialTimer = undefined
    this.#lost.clear()
    this.#node = undefined
  }

  /**
   * This node closes its connections to `peerId` on purpose: do not redial it, even when a close
   * ends in an error (a write racing the close resets it) within HANG_UP_GRACE_MS.
   */
  forget(peerId: string): void {
    this.#lost.delete(peerId)
    this.#hungUp.set(peerId, Date.now())
    if (this.#hungUp.size > DEFAULT_MAX_LOST_PEERS) this.#hungUp.delete(this.#hungUp.keys().next().value as string)
  }

  /** Peers lost and being redialled (for status and tests). */
  lostPeers(): string[] {
    return [...this.#lost.keys()]
  }

  readonly #onConnect = (evt: CustomEvent<PeerId>): void => {
    this.#lost.delete(evt.detail.toString())
    this.#hungUp.delete(evt.detail.toString())
  }

  readonly #onOpen = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail
    connection.addEventListener(
      'close',
      (close) => {
        // Aborted or reset, not closed: lost, once its other connections are gone too (after
        // libp2p has taken this one off its list).
        if ((close as StreamCloseEvent).error !== undefined) setTimeout(() => this.#maybeLost(connection.remotePeer), 0)
      },
      { once: true },
    )
  }

  #maybeLost(peer: PeerId): void {
    const node = this.#node
    const peerId = peer.toString()
    if (node === undefined || node.getConnections(peer).length > 0 || this.#init.isBanned?.(peerId) === true) return
    const hungUp = this.#hungUp.get(peerId)
    if (hungUp !== undefined && Date.now() - hungUp < HANG_UP_GRACE_MS) return
    this.#lost.delete(peerId)
    this.#lost.set(peerId, Date.now())
    for (const oldest of this.#lost.keys()) {
      if (this.#lost.size <= DEFAULT_MAX_LOST_PEERS) break
      this.#lost.delete(oldest)
    }
  }

  #armRedial(): void {
    const interval = this.#init.redialIntervalMs ?? DEFAULT_REDIAL_INTERVAL_MS
    // +-20 % so that the peers of a healed split do not all dial at the same moment.
    this.#redialTimer = setTimeout(
      () => void this.#redial().finally(() => this.#node && this.#armRedial()),
      interval * (0.8 + Math.random() * 0.4),
    )
    this.#redialTimer.unref?.()
  }

  async #redial(): Promise<void> {
    const now = Date.now()
    const giveUp = this.#init.redialForMs ?? DEFAULT_REDIAL_FOR_MS
    const due: string[] = []
    for (const [peerId, since] of this.#lost) {
      if (now - since > giveUp || this.#init.isBanned?.(peerId) === true) this.#lost.delete(peerId)
      else due.push(peerId)
    }
    await Promise.all(due.map((peerId) => this.#dial(peerId)))
  }

  async #reconnectKnownPeers(self: string): Promise<void> {
    try {
      const known = await this.#peers.knownPeers()
      const candidates = known.filter((p) => p.peerId !== self && p.addresses.length > 0)
      await Promise.all(
        candidates.slice(0, this.#init.reconnectAtStart ?? DEFAULT_RECONNECT_AT_START).map((p) => this.#dial(p.peerId)),
      )
    } catch (err) {
      this.#log.debug('reconnect from peer store failed', errorFields(err))
    }
  }

  async #dial(peerId: string, addrs: Multiaddr[] = []): Promise<void> {
    const node = this.#node
    if (node === undefined || this.#dialing.has(peerId) || peerId === node.peerId.toString()) return
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

  readonly #onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    void this.#dial(evt.detail.id.toString(), evt.detail.multiaddrs)
  }
}
