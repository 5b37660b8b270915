/**
 * Keeping the node connected: discovered peers (mDNS, DHT, bootstrap) are dialled while fewer
 * than `autoDialTarget` are connected, and peers remembered in the persisted peer store are
 * redialled at start, so a restarted node rejoins.
 *
 * Peers lost without a goodbye are redialled every `redialIntervalMs` (with jitter) for
 * `redialForMs`, while fewer than `autoDialTarget` are connected: a peer whose last connection
 * ended, however it ended, without a goodbye (a crash, a dropped link, the network split).
 * Without it, a node that kept peers on its own side of a split never looked for the others
 * again (auto-dial acts on discovery only, and discovery on a LAN is mDNS alone).
 *
 * How a connection ends tells nothing: a crashed process's kernel closes its sockets with a FIN
 * when nothing was left unread, which reads here as a clean close (7 SIGKILLs of 60 on loopback,
 * test/net-redial.test.ts), and a deliberate close reads as a reset when one side's write races
 * the other's close, or as a bare FIN when the closing side's last frames (Yamux's GoAway) never
 * reach the wire. So goodbyes are said in words: a stopping node, and a node that hangs up on a
 * peer, tells it on BYE_PROTOCOL (docs/protocols/bye.md). A peer that said goodbye, that this
 * node hung up on, or that is banned is not redialled. At most DEFAULT_MAX_LOST_PEERS are
 * remembered.
 */

import { type Connection, KEEP_ALIVE, type PeerId, type PeerInfo } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import {
  BYE_GRACE_MS,
  BYE_MAX_PEERS,
  BYE_PROTOCOL,
  BYE_TIMEOUT_MS,
  DEFAULT_MAX_LOST_PEERS,
  DEFAULT_RECONNECT_AT_START,
  DEFAULT_REDIAL_FOR_MS,
  DEFAULT_REDIAL_INTERVAL_MS,
} from '../core/constants.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import { isPeerMismatch } from './errors.ts'
import type { Services } from './libp2p-options.ts'
import type { PeerView } from './peers.ts'

/** How long an address where a dial met another peer than the one asked for is left alone by auto-dial, ms. */
const ADDRESS_TAKEN_MS = 10 * 60_000

/** `ip:port` of a TCP or WebSocket address (relayed ones have none of their own). */
function addressKey(addr: Multiaddr): string | undefined {
  const text = addr.toString()
  if (text.includes('/p2p-circuit')) return undefined
  const m = /^\/(?:ip4|ip6|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)/.exec(text)
  return m === null ? undefined : `${m[1]}:${m[2]}`
}

/** What a stopping node writes on BYE_PROTOCOL (docs/protocols/bye.md). */
const BYE_MESSAGE = Uint8Array.of(1)

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
  /** `ip:port` of the addresses auto-dial is dialling now (one peer at a time per address). */
  readonly #busyAddresses = new Set<string>()
  /** `ip:port` where a dial met another peer than the one asked for: when (see #dial). */
  readonly #taken = new Map<string, number>()
  /** Peers lost without a goodbye: when each was lost (oldest first). */
  readonly #lost = new Map<string, number>()
  /** Peers that said goodbye, or that this node hung up on: when (see #farewell). */
  readonly #departed = new Map<string, number>()
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
    void this.#handleBye(node).catch((err: unknown) => this.#log.warn('cannot serve goodbyes', errorFields(err)))
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
   * This node is about to hang up on `peer` on purpose: neither side is to redial the other. Call
   * before closing its connections; never throws.
   */
  async hangingUp(peer: PeerId): Promise<void> {
    await this.#farewell(peer)
    await this.sayGoodbye(peer)
  }

  /**
   * A goodbye, ours or the peer's: not a peer to redial when its connections then end, cleanly or
   * in an error (a write of one side racing the other's close resets the connection), within
   * BYE_GRACE_MS. Nor is libp2p to redial it: its reconnect queue redials every peer tagged
   * keep-alive when it disconnects, goodbye or not, and kad-dht tags its closest peers so (the
   * peer that said goodbye was dialled twice in the 3 s after it stopped, test/net-redial). The
   * tags go before the closes (the peer waits for our answer to close); kad-dht tags the peer
   * again only once it has left its closest peers and come back.
   */
  async #farewell(peer: PeerId): Promise<void> {
    const peerId = peer.toString()
    this.#lost.delete(peerId)
    this.#departed.delete(peerId)
    this.#departed.set(peerId, Date.now())
    if (this.#departed.size > DEFAULT_MAX_LOST_PEERS)
      this.#departed.delete(this.#departed.keys().next().value as string)
    const node = this.#node
    if (node === undefined) return
    try {
      const { tags } = await node.peerStore.get(peer)
      const keepAlive = [...tags.keys()].filter((tag) => tag.startsWith(KEEP_ALIVE))
      if (keepAlive.length > 0)
        await node.peerStore.merge(peer, { tags: Object.fromEntries(keepAlive.map((tag) => [tag, undefined])) })
    } catch (err) {
      // Not in the peer store (nothing to untag), or the store failed: the goodbye stands.
      this.#log.debug('cannot untag a departing peer', { peerId, ...errorFields(err) })
    }
  }

  /** Serve BYE_PROTOCOL: a peer about to stop, or to hang up on us, says so (docs/protocols/bye.md). */
  async #handleBye(node: Libp2p<Services>): Promise<void> {
    await node.handle(
      BYE_PROTOCOL,
      (stream, connection) => {
        // Noted on the protocol alone; the byte the peer sends is not read. Answered once noted.
        void this.#farewell(connection.remotePeer)
          .then(() => stream.close())
          .catch((err: unknown) => stream.abort(err as Error))
      },
      { maxInboundStreams: 1, runOnLimitedConnection: true },
    )
  }

  /**
   * Tell connected peers (at most BYE_MAX_PEERS, within BYE_TIMEOUT_MS) that this node is
   * stopping, or `only` that peer that it is about to hang up on, so they do not take the closes
   * that follow for a crash. Never throws.
   */
  async sayGoodbye(only?: PeerId): Promise<void> {
    const node = this.#node
    if (node === undefined) return
    const signal = AbortSignal.timeout(BYE_TIMEOUT_MS)
    const byPeer = new Map<string, Connection>()
    for (const c of only === undefined ? node.getConnections() : node.getConnections(only)) {
      if (c.status === 'open' && !byPeer.has(c.remotePeer.toString())) byPeer.set(c.remotePeer.toString(), c)
    }
    const told = [...byPeer.values()].sort((a, b) => a.timeline.open - b.timeline.open).slice(0, BYE_MAX_PEERS)
    await Promise.allSettled(
      told.map(async (connection) => {
        const stream = await connection.newStream(BYE_PROTOCOL, { signal, runOnLimitedConnection: true })
        const onAbort = () => stream.abort(new Error('goodbye not taken within the time'))
        signal.addEventListener('abort', onAbort, { once: true })
        try {
          // One byte: a stream on which nothing is written may never reach the peer (libp2p
          // negotiates the protocol with the first write).
          stream.send(BYE_MESSAGE)
          await stream.close({ signal })
          // The peer closes its side once it has taken note.
          for await (const _ of stream) {
            // nothing more comes on this protocol
          }
        } finally {
          signal.removeEventListener('abort', onAbort)
        }
      }),
    )
  }

  readonly #onConnect = (evt: CustomEvent<PeerId>): void => {
    this.#lost.delete(evt.detail.toString())
    this.#departed.delete(evt.detail.toString())
  }

  readonly #onOpen = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail
    // Clean or not (see the top of this file), once its other connections are gone too (after
    // libp2p has taken this one off its list).
    connection.addEventListener('close', () => setTimeout(() => this.#maybeLost(connection.remotePeer), 0), {
      once: true,
    })
  }

  #maybeLost(peer: PeerId): void {
    const node = this.#node
    const peerId = peer.toString()
    if (node === undefined || node.getConnections(peer).length > 0 || this.#init.isBanned?.(peerId) === true) return
    const departed = this.#departed.get(peerId)
    if (departed !== undefined && Date.now() - departed < BYE_GRACE_MS) return
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

  /**
   * Dial a peer if fewer than the target are connected. Stale records are common: a host that
   * came back with a new key, or a new node on an old node's address, leaves its old peer IDs in
   * the DHT and in peers' stores, all at the same address. Dialling them all at once made one
   * host open a connection per stale ID to the same address within milliseconds; the node there
   * (libp2p's per-host inbound limit, 5 a second) then refused the dial that mattered, a user's
   * `lateral connect` (8 of 20 benchmark runs of two public hosts). So auto-dial dials one peer
   * at a time per address, and an address where a dial met another peer than the one asked for
   * is not dialled for another peer ID for ADDRESS_TAKEN_MS.
   */
  async #dial(peerId: string, addrs: Multiaddr[] = []): Promise<void> {
    const node = this.#node
    if (node === undefined || this.#dialing.has(peerId) || peerId === node.peerId.toString()) return
    if (node.getConnections().length >= this.#init.autoDialTarget) return
    const id = peerIdFromString(peerId)
    if (node.getConnections(id).length > 0) return
    const known =
      addrs.length > 0
        ? addrs
        : await node.peerStore.get(id).then(
            (p) => p.addresses.map((a) => a.multiaddr),
            () => [],
          )
    const now = Date.now()
    const keys = [...new Set(known.flatMap((a) => addressKey(a) ?? []))]
    const taken = (key: string) => (this.#taken.get(key) ?? 0) > now - ADDRESS_TAKEN_MS
    if (keys.length > 0 && keys.every((k) => this.#busyAddresses.has(k) || taken(k))) return
    this.#dialing.add(peerId)
    for (const k of keys) this.#busyAddresses.add(k)
    try {
      if (addrs.length > 0) await node.peerStore.merge(id, { multiaddrs: addrs })
      await node.dial(id, { signal: AbortSignal.timeout(this.#init.dialTimeoutMs) })
    } catch (err) {
      if (isPeerMismatch(err)) {
        for (const k of keys) this.#taken.set(k, Date.now())
        if (this.#taken.size > DEFAULT_MAX_LOST_PEERS) this.#taken.delete(this.#taken.keys().next().value as string)
      }
      this.#log.debug('auto-dial failed', { peerId, ...errorFields(err) })
    } finally {
      this.#dialing.delete(peerId)
      for (const k of keys) this.#busyAddresses.delete(k)
    }
  }

  readonly #onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    void this.#dial(evt.detail.id.toString(), evt.detail.multiaddrs)
  }
}
