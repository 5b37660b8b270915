/** Peer and content routing through the Kademlia DHT (under the private `/lateral` prefix). */
import type { SingleKadDHT } from '@libp2p/kad-dht'
import type { Libp2p } from 'libp2p'
import type { AbortOptions } from '../core/abort.ts'
import { DHT_PROTOCOL } from '../core/constants.ts'
import { mapNetError } from './errors.ts'
import type { Services } from './libp2p-options.ts'
import { parseCid, parsePeerId } from './parse.ts'
import type { DhtStatus } from './types.ts'

export class Routing {
  readonly #node: () => Libp2p<Services>

  constructor(node: () => Libp2p<Services>) {
    this.#node = node
  }

  dht(): DhtStatus {
    const dht = this.#node().services.dht
    // kadDHT() is typed as the general interface; the single DHT it builds has a routing table.
    const size = (dht as Partial<SingleKadDHT>).routingTable?.size ?? 0
    return { mode: dht.getMode(), routingTableSize: size, protocol: DHT_PROTOCOL }
  }

  /** A peer's addresses, asked of the DHT. */
  async findPeer(peerId: string, options: AbortOptions = {}): Promise<string[]> {
    try {
      const info = await this.#node().peerRouting.findPeer(parsePeerId(peerId), options)
      return info.multiaddrs.map((ma) => ma.toString())
    } catch (err) {
      throw mapNetError(err, `could not find peer ${peerId}`, options)
    }
  }

  /** Announce in the DHT that this node provides the block with this CID. */
  async provide(cid: string, options: AbortOptions = {}): Promise<void> {
    try {
      await this.#node().contentRouting.provide(parseCid(cid), options)
    } catch (err) {
      throw mapNetError(err, `could not announce ${cid}`, options)
    }
  }

  /** Providers of a CID as the DHT names them (not this node); their addresses go into the peer store. */
  async *findProviders(
    cid: string,
    options: AbortOptions = {},
  ): AsyncGenerator<{ peerId: string; addresses: string[] }> {
    const node = this.#node()
    const self = node.peerId.toString()
    try {
      for await (const info of node.contentRouting.findProviders(parseCid(cid), options)) {
        const peerId = info.id.toString()
        if (peerId === self) continue
        if (info.multiaddrs.length > 0) await node.peerStore.merge(info.id, { multiaddrs: info.multiaddrs })
        yield { peerId, addresses: info.multiaddrs.map((ma) => ma.toString()) }
      }
    } catch (err) {
      if (options.signal?.aborted === true) return
      throw mapNetError(err, `could not look up providers of ${cid}`, options)
    }
  }
}
