/** Peer and content routing through the Kademlia DHT (under the private `/lateral` prefix). */
import type { SingleKadDHT } from '@libp2p/kad-dht'
import type { Libp2p } from 'libp2p'
import type { AbortOptions } from '../core/abort.ts'
import { DHT_PROTOCOL } from '../core/constants.ts'
import { mapNetError } from './errors.ts'
import type { Services } from './libp2p-options.ts'
import { parseCid, parsePeerId } from './parse.ts'
import type { DhtQueryEvent, DhtQueryOptions, DhtStatus } from './types.ts'

/** kad-dht's progress events (`kad-dht:query:*`) as Lateral's DhtQueryEvent; others are ignored. */
function queryEvent(evt: Event): DhtQueryEvent | undefined {
  // biome-ignore lint/suspicious/noExplicitAny: kad-dht's event details are a union keyed by the event type
  const d = (evt as CustomEvent<any>).detail
  switch (evt.type) {
    case 'kad-dht:query:send-query':
      return { type: 'send-query', to: String(d.to) }
    case 'kad-dht:query:peer-response':
      return {
        type: 'peer-response',
        from: String(d.from),
        closer: (d.closer ?? []).map((p: { id: unknown }) => String(p.id)),
        providers: (d.providers ?? []).map((p: { id: unknown }) => String(p.id)),
      }
    case 'kad-dht:query:query-error':
      return { type: 'query-error', from: String(d.from), error: String(d.error?.name ?? d.error) }
    case 'kad-dht:query:final-peer':
      return { type: 'final-peer', from: String(d.from), peer: String(d.peer?.id) }
    default:
      return undefined
  }
}

/** libp2p routing options for DhtQueryOptions: progress events mapped to `onQuery`. */
function routingOptions(options: DhtQueryOptions) {
  const { onQuery, useCache, signal } = options
  return {
    ...(signal === undefined ? {} : { signal }),
    ...(useCache === undefined ? {} : { useCache }),
    ...(onQuery === undefined
      ? {}
      : {
          onProgress: (evt: Event) => {
            const e = queryEvent(evt)
            if (e !== undefined) onQuery(e)
          },
        }),
  }
}

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
  async findPeer(peerId: string, options: DhtQueryOptions = {}): Promise<string[]> {
    try {
      const info = await this.#node().peerRouting.findPeer(parsePeerId(peerId), routingOptions(options))
      return info.multiaddrs.map((ma) => ma.toString())
    } catch (err) {
      throw mapNetError(err, `could not find peer ${peerId}`, options)
    }
  }

  /** Peer IDs of the peers closest to `key` that a DHT walk finds, as they are found. */
  async *closestPeers(key: Uint8Array, options: DhtQueryOptions = {}): AsyncGenerator<string> {
    try {
      // The DHT's own walk: libp2p's peerRouting.getClosestPeers would run one more findPeer
      // walk for every peer it returns without addresses, which is not the lookup measured here.
      for await (const event of this.#node().services.dht.getClosestPeers(key, routingOptions(options))) {
        if (event.name === 'FINAL_PEER') yield event.peer.id.toString()
      }
    } catch (err) {
      if (options.signal?.aborted === true) return
      throw mapNetError(err, 'could not walk the DHT', options)
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
    options: DhtQueryOptions = {},
  ): AsyncGenerator<{ peerId: string; addresses: string[] }> {
    const node = this.#node()
    const self = node.peerId.toString()
    try {
      for await (const info of node.contentRouting.findProviders(parseCid(cid), routingOptions(options))) {
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
