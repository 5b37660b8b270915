/** Views of peers and connections (what `net.connections()` and the dashboard show). */
import type { Connection, PeerId } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'
import type { Services } from './libp2p-options.ts'
import type { Traffic } from './traffic.ts'
import type { PeerConnection } from './types.ts'

export class PeerView {
  readonly #node: () => Libp2p<Services>
  readonly #traffic: () => Traffic | undefined
  /** Last ping round trip per connected peer, for connections whose muxer measured none. */
  readonly #lastPing = new Map<string, number>()

  constructor(node: () => Libp2p<Services>, traffic: () => Traffic | undefined) {
    this.#node = node
    this.#traffic = traffic
  }

  attach(node: Libp2p<Services>): void {
    node.addEventListener('connection:open', this.#onConnectionOpen)
    node.addEventListener('peer:disconnect', this.#onDisconnect)
  }

  detach(node: Libp2p<Services>): void {
    node.removeEventListener('connection:open', this.#onConnectionOpen)
    node.removeEventListener('peer:disconnect', this.#onDisconnect)
  }

  recordPing(peerId: string, rttMs: number): void {
    this.#lastPing.set(peerId, rttMs)
  }

  /** One entry per connected peer, its connections merged. */
  async connections(): Promise<PeerConnection[]> {
    const byPeer = new Map<string, Connection[]>()
    for (const conn of this.#node().getConnections()) {
      const id = conn.remotePeer.toString()
      const list = byPeer.get(id) ?? []
      list.push(conn)
      byPeer.set(id, list)
    }
    return Promise.all([...byPeer.values()].map(async (conns) => this.describe(conns)))
  }

  /** The peer behind these connections (all to the same peer, at least one). */
  async describe(conns: Connection[]): Promise<PeerConnection> {
    const first = conns[0] as Connection
    const id = first.remotePeer.toString()
    let protocols: string[] = []
    let agent: string | undefined
    try {
      const peer = await this.#node().peerStore.get(first.remotePeer)
      protocols = [...peer.protocols].sort()
      const raw = peer.metadata.get('AgentVersion')
      if (raw !== undefined) agent = new TextDecoder().decode(raw)
    } catch {
      // Not identified yet: no protocols or agent to show.
    }
    const rtt = conns.map((c) => c.rtt).find((r) => r !== undefined) ?? this.#lastPing.get(id)
    const bytes = this.#traffic()?.of(conns)
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
      kind: conns.some((c) => c.direct && c.limits === undefined && !c.remoteAddr.toString().includes('/p2p-circuit'))
        ? 'direct'
        : 'relayed',
    }
  }

  /** Peers that the peer store remembers (connected or not). */
  async knownPeers(): Promise<Array<{ peerId: string; addresses: string[] }>> {
    const peers = await this.#node().peerStore.all()
    return peers.map((p) => ({ peerId: p.id.toString(), addresses: p.addresses.map((a) => a.multiaddr.toString()) }))
  }

  readonly #onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    this.#traffic()?.opened(evt.detail)
  }

  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.#lastPing.delete(evt.detail.toString())
  }
}
