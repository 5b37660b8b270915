/** libp2p's events as Lateral's `NetEvents` (peer IDs as strings, no libp2p types). */
import type { GossipsubMessage } from '@libp2p/gossipsub'
import type { IdentifyResult, PeerId } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'
import type { Services } from './libp2p-options.ts'
import { toPubSubMessage } from './pubsub.ts'
import type { NetEvents } from './types.ts'

export class NetEventBridge {
  readonly #events = new EventTarget()
  #node: Libp2p<Services> | undefined
  /** The node's addresses as last announced, to emit `addresses:change` only on a change. */
  #addresses: string[] = []

  attach(node: Libp2p<Services>): void {
    this.#node = node
    this.#addresses = addressesOf(node)
    node.addEventListener('peer:connect', this.#onConnect)
    node.addEventListener('peer:disconnect', this.#onDisconnect)
    node.addEventListener('peer:identify', this.#onIdentify)
    node.addEventListener('self:peer:update', this.#onSelfUpdate)
    // Absent in simulations that leave gossipsub out (NetInit.lean).
    ;(node.services as Partial<Services>).pubsub?.addEventListener('gossipsub:message', this.#onPubSubMessage)
  }

  detach(node: Libp2p<Services>): void {
    this.#node = undefined
    node.removeEventListener('peer:connect', this.#onConnect)
    node.removeEventListener('peer:disconnect', this.#onDisconnect)
    node.removeEventListener('peer:identify', this.#onIdentify)
    node.removeEventListener('self:peer:update', this.#onSelfUpdate)
    ;(node.services as Partial<Services>).pubsub?.removeEventListener('gossipsub:message', this.#onPubSubMessage)
  }

  addEventListener<K extends keyof NetEvents>(
    type: K,
    listener: (evt: NetEvents[K]) => void,
    options?: boolean | { once?: boolean; signal?: AbortSignal },
  ): void {
    this.#events.addEventListener(type, listener as (evt: Event) => void, options)
  }

  removeEventListener<K extends keyof NetEvents>(
    type: K,
    listener: (evt: NetEvents[K]) => void,
    options?: boolean,
  ): void {
    this.#events.removeEventListener(type, listener as (evt: Event) => void, options)
  }

  #emit<K extends keyof NetEvents>(type: K, detail: NetEvents[K]['detail']): void {
    this.#events.dispatchEvent(new CustomEvent(type, { detail }))
  }

  readonly #onConnect = (evt: CustomEvent<PeerId>): void => {
    this.#emit('peer:connect', { peerId: evt.detail.toString() })
  }

  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => {
    this.#emit('peer:disconnect', { peerId: evt.detail.toString() })
  }

  readonly #onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { peerId, protocols, agentVersion } = evt.detail
    this.#emit('peer:identify', {
      peerId: peerId.toString(),
      protocols: [...protocols].sort(),
      ...(agentVersion === undefined ? {} : { agent: agentVersion }),
    })
  }

  readonly #onPubSubMessage = (evt: CustomEvent<GossipsubMessage>): void => {
    this.#emit('pubsub:message', toPubSubMessage(evt.detail.msg, evt.detail.propagationSource))
  }

  readonly #onSelfUpdate = (): void => {
    if (this.#node === undefined) return
    const addresses = addressesOf(this.#node)
    if (addresses.join() === this.#addresses.join()) return
    this.#addresses = addresses
    this.#emit('addresses:change', { addresses })
  }
}

/** Addresses others can dial, each ending in /p2p/<peerId>. */
export function addressesOf(node: Libp2p<Services>): string[] {
  return node.getMultiaddrs().map((ma) => ma.toString())
}
