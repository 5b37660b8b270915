/**
 * Topologies registered after a peer identified still hear of that peer.
 *
 * libp2p tells a topology (kad-dht's routing table, gossipsub, our own services) about a peer
 * only when identify completes on a connection. A service that registers its topology later, as
 * kad-dht does in its `start()`, never hears of connections identified before: the bootstrap
 * module dials at start, and on loopback its connection can identify before the DHT has
 * registered. The DHT then keeps an empty routing table beside a live bootstrap connection, its
 * self-query waits for peers that never come, and the node finds nobody through the bootstrap
 * peer (2 daemons in 3 on a loaded machine). This hook makes registration replay the peers
 * already connected and identified with the protocol, as identify would have.
 */
import type { Connection, PeerId, PeerStore, Topology } from '@libp2p/interface'
import type { Logger } from '../core/logger.ts'

/** The parts of libp2p's components this hook reads (service factories receive them). */
export interface LateTopologyComponents {
  registrar: { register(protocol: string, topology: Topology): Promise<string> }
  connectionManager: { getConnections(peerId?: PeerId): Connection[] }
  peerStore: Pick<PeerStore, 'get'>
}

/** Wrap `components.registrar.register` so a topology learns of peers connected before it. */
export function replayConnectedPeers(components: LateTopologyComponents, log?: Logger): void {
  const registrar = components.registrar
  const register = registrar.register.bind(registrar)
  registrar.register = async (protocol, topology) => {
    const id = await register(protocol, topology)
    // After the registration: a peer identifying from here on is told by libp2p itself (the
    // topology's filter, when it has one, keeps it from hearing twice).
    const told = new Set<string>()
    for (const connection of components.connectionManager.getConnections()) {
      if (connection.status !== 'open' || told.has(connection.remotePeer.toString())) continue
      if (connection.limits != null && topology.notifyOnLimitedConnection !== true) continue
      const peerId = connection.remotePeer
      let protocols: string[]
      try {
        protocols = (await components.peerStore.get(peerId)).protocols
      } catch {
        continue // not identified yet: identify will notify
      }
      if (!protocols.includes(protocol) || topology.filter?.has(peerId) === true) continue
      told.add(peerId.toString())
      topology.filter?.add(peerId)
      try {
        await topology.onConnect?.(peerId, connection)
      } catch (err) {
        log?.debug('late topology notification failed', { protocol, peerId: peerId.toString(), err: String(err) })
      }
    }
    return id
  }
}
