/**
 * Keeps relay reservations while this node has no confirmed public address. libp2p reserves on
 * a relay for each `/p2p-circuit` listen address, and while one is unmet it walks the DHT at
 * random looking for relays: for ever, on a network that has none. So no such address is given
 * at start; one is added here for each distinct relay this node has heard of (a peer that
 * identified with the relay protocol), up to the target. A node with no relay around does no
 * extra work; a lost relay is replaced by libp2p from the other relays it knows.
 */
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import type { Logger } from '../core/logger.ts'
import { internalsOf } from './internals.ts'
import { RELAY_HOP_PROTOCOL } from './nat-services.ts'
import { hasConfirmedPublicAddress } from './reachability.ts'

export class RelayPicker {
  readonly #target: number
  readonly #log: Logger
  #node: Libp2p | undefined
  /** `/p2p-circuit` listen addresses added so far (each asks libp2p for one reservation). */
  #issued = 0
  #checking = false
  #again = false

  constructor(target: number, log: Logger) {
    this.#target = target
    this.#log = log
  }

  #events: EventTarget | undefined

  /** Listen on the node's event bus (before it starts, so the first relays are seen too). */
  listen(events: EventTarget): void {
    if (this.#target <= 0) return
    this.#events = events
    this.#issued = 0
    events.addEventListener('peer:identify', this.#check)
  }

  /** The started node; relays identified while it started are asked now. */
  attach(node: Libp2p): void {
    if (this.#events === undefined) return
    this.#node = node
    this.#check()
  }

  detach(): void {
    this.#events?.removeEventListener('peer:identify', this.#check)
    this.#events = undefined
    this.#node = undefined
  }

  /** Relays that hold a reservation for us, from our `/p2p-circuit` addresses. */
  static relaysOf(addresses: string[]): Array<{ peerId: string; address: string }> {
    const out = new Map<string, string>()
    for (const a of addresses) {
      const i = a.indexOf('/p2p-circuit')
      if (i < 0) continue
      const relay = /\/p2p\/([^/]+)$/.exec(a.slice(0, i))?.[1]
      if (relay !== undefined && !out.has(relay)) out.set(relay, a)
    }
    return [...out].map(([peerId, address]) => ({ peerId, address }))
  }

  /**
   * On an identify, only a peer that serves as a relay can change anything: others cost no scan
   * of the peer store (which would grow with the network, once per identify).
   */
  readonly #check = (evt?: Event): void => {
    if (this.#node === undefined || this.#issued >= this.#target) return
    const protocols = (evt as CustomEvent<{ protocols?: string[] }> | undefined)?.detail?.protocols
    if (protocols !== undefined && !protocols.includes(RELAY_HOP_PROTOCOL)) return
    // A relay identified during a check is looked at by one more check right after it.
    if (this.#checking) {
      this.#again = true
      return
    }
    this.#checking = true
    void this.#reserve().finally(() => {
      this.#checking = false
      if (this.#again) {
        this.#again = false
        this.#check()
      }
    })
  }

  async #reserve(): Promise<void> {
    const node = this.#node
    if (node === undefined || this.#issued >= this.#target) return
    const self = node.peerId.toString()
    const relays = (await node.peerStore.all({ filters: [(p) => p.protocols.includes(RELAY_HOP_PROTOCOL)] })).filter(
      (p) => p.id.toString() !== self,
    )
    if (relays.length <= this.#issued) return
    const internals = internalsOf(node)
    if (hasConfirmedPublicAddress(internals.addressManager.getAddressesWithMetadata())) return
    while (this.#issued < Math.min(this.#target, relays.length) && this.#node !== undefined) {
      this.#issued++
      try {
        await internals.transportManager.listen([multiaddr('/p2p-circuit')])
        this.#log.info('asking relays for a reservation', { relaysKnown: relays.length, asked: this.#issued })
      } catch (err) {
        this.#log.info('could not listen through a relay', { error: (err as Error).message })
      }
    }
  }
}
