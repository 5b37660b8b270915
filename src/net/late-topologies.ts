/**
 * Topologies registered after a peer identified still hear of that peer.
 *
 * libp2p tells a topology (kad-dht's routing table, gossipsub, AutoNAT, our own services) about a
 * peer only when identify completes on a connection. A service that registers its topology later,
 * as kad-dht and AutoNAT v2 do in their `start()`, never hears of connections identified before:
 * the bootstrap module dials at start, and its connection can identify before the service has
 * registered. The DHT then kept an empty routing table beside a live bootstrap connection (2
 * daemons in 3 on a loaded machine found nobody), and AutoNAT never asked the bootstrap peers to
 * dial it back (a public host waited 30 s or more for a verdict). This hook makes registration
 * replay the peers already connected and identified with the protocol, as identify would have.
 *
 * The replay waits until every service has started: a topology registered inside a service's
 * `start()` is told only once that `start()` has returned. AutoNAT v2 marks itself started only
 * after registering and ignores every peer it hears of before, so a peer that libp2p itself
 * told the topology in between is told again (a topology with a filter is told once, as libp2p
 * does). A topology registered on a started node is told at once.
 */
import type { Connection, PeerId, PeerStore, Startable, Topology } from '@libp2p/interface'
import type { Logger } from '../core/logger.ts'

/** The parts of libp2p's components this hook reads (service factories receive them). */
export interface LateTopologyComponents {
  registrar: { register(protocol: string, topology: Topology): Promise<string>; unregister(id: string): void }
  connectionManager: { getConnections(peerId?: PeerId): Connection[] }
  peerStore: Pick<PeerStore, 'get'>
}

interface Registration {
  protocol: string
  topology: Topology
}

/** The hook: a libp2p startable, and a way to tell a protocol's topologies again of the peers connected now. */
export interface TopologyReplay extends Startable {
  /** Tell every topology registered for `protocol` of the peers connected with it now, as if they had just identified. */
  replay(protocol: string): Promise<void>
}

/**
 * Wrap `components.registrar.register` so a topology learns of peers connected before it. The
 * returned startable must be one of libp2p's components (a service): its `afterStart` replays the
 * registrations made while the node started.
 */
export function replayConnectedPeers(components: LateTopologyComponents, log?: Logger): TopologyReplay {
  const registrar = components.registrar
  const register = registrar.register.bind(registrar)
  const unregister = registrar.unregister.bind(registrar)
  let started = false
  let pending: Registration[] = []
  const registered = new Map<string, Registration>()

  async function replay({ protocol, topology }: Registration): Promise<void> {
    const told = new Set<string>()
    for (const connection of components.connectionManager.getConnections()) {
      const peer = connection.remotePeer.toString()
      if (connection.status !== 'open' || told.has(peer)) continue
      if (connection.limits != null && topology.notifyOnLimitedConnection !== true) continue
      let protocols: string[]
      try {
        protocols = (await components.peerStore.get(connection.remotePeer)).protocols
      } catch {
        continue // not identified yet: identify will notify
      }
      if (!protocols.includes(protocol) || topology.filter?.has(connection.remotePeer) === true) continue
      told.add(peer)
      topology.filter?.add(connection.remotePeer)
      try {
        await topology.onConnect?.(connection.remotePeer, connection)
      } catch (err) {
        log?.debug('late topology notification failed', { protocol, peerId: peer, err: String(err) })
      }
    }
  }

  registrar.register = async (protocol, topology) => {
    const id = await register(protocol, topology)
    const registration = { protocol, topology }
    registered.set(id, registration)
    if (started) await replay(registration)
    else pending.push(registration)
    return id
  }
  registrar.unregister = (id) => {
    registered.delete(id)
    unregister(id)
  }

  return {
    start() {},
    async afterStart() {
      started = true
      const registrations = pending
      pending = []
      for (const registration of registrations) await replay(registration)
    },
    stop() {
      started = false
    },
    async replay(protocol) {
      if (!started) return
      for (const registration of [...registered.values()]) {
        if (registration.protocol === protocol) await replay(registration)
      }
    },
  }
}
