/**
 * Keeping the node connected: discovered peers (mDNS, DHT, bootstrap) are dialled while fewer
 * than `autoDialTarget` are connected, and peers remembered in the persisted peer store are
 * redialled at start, so a restarted node rejoins.
 */

import type { PeerInfo } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import { DEFAULT_RECONNECT_AT_START } from '../core/constants.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import type { Services } from './libp2p-options.ts'
import type { PeerView } from './peers.ts'

export interface AutoDialInit {
  autoDialTarget: number
  dialTimeoutMs: number
  /** How many remembered peers are redialled at start (DEFAULT_RECONNECT_AT_START). */
  reconnectAtStart?: number
}

export class AutoDialer {
  readonly #init: AutoDialInit
  readonly #peers: PeerView
  readonly #log: Logger
  readonly #dialing = new Set<string>()
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
    void this.#reconnectKnownPeers(node.peerId.toString())
  }

  detach(node: Libp2p<Services>): void {
    node.removeEventListener('peer:discovery', this.#onDiscovery)
    this.#node = undefined
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
