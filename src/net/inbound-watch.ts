/**
 * Holds every inbound connection and stream to the peer's limits in peer-guard.ts, before any
 * protocol runs: libp2p has no per-peer stream rate and no per-peer connection cap, so the
 * node's event bus and each connection's muxer are watched here. Streams are seen as the muxer
 * creates them (before protocol negotiation), so streams for protocols nobody serves count too.
 */
import type { Connection } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'
import type { Logger } from '../core/logger.ts'
import type { PeerGuard } from './peer-guard.ts'

/** The muxer behind a libp2p 3 connection: a field of its Connection class, not of the interface. */
interface MuxerEvents {
  addEventListener(
    type: 'stream',
    listener: (evt: CustomEvent<{ direction?: string; abort(err: Error): void }>) => void,
  ): void
}

export function watchInbound(node: Libp2p, guard: PeerGuard, log: Logger): () => void {
  const onOpen = (evt: CustomEvent<Connection>): void => {
    const connection = evt.detail
    const peer = connection.remotePeer.toString()
    if (guard.isBanned(peer)) {
      connection.abort(new Error('banned peer'))
      return
    }
    const open = node.getConnections(connection.remotePeer).length
    if (open > guard.maxConnectionsPerPeer) {
      log.debug('connection over the per-peer limit closed', { peer, open })
      guard.penalize(peer, 1, `more than ${guard.maxConnectionsPerPeer} connections at once`)
      connection.abort(new Error('too many connections from this peer'))
      return
    }
    if (connection.direction === 'inbound' && !guard.admitConnection(peer)) {
      connection.abort(new Error('connections opened past the stream rate'))
      return
    }
    const muxer = (connection as unknown as { muxer?: MuxerEvents }).muxer
    muxer?.addEventListener('stream', (e) => {
      const stream = e.detail
      if (stream.direction !== undefined && stream.direction !== 'inbound') return
      if (!guard.admitStream(peer)) stream.abort(new Error('stream rate exceeded'))
    })
  }
  node.addEventListener('connection:open', onOpen)
  return () => node.removeEventListener('connection:open', onOpen)
}
