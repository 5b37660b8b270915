/**
 * The simulated network under the sim transport (sim-transport.ts): which in-process listener
 * answers at which `/memory/NAME` address, and what each link between two peers does to the bytes
 * sent over it. Plain state, no libp2p: the simulation harness (testing/sim/) drives it.
 *
 * A link delivers each chunk a connection writes after the link's latency, in order (a stream
 * transport such as TCP never reorders). Loss is modelled as TCP experiences it on a reliable
 * stream: a lost segment is sent again after the retransmission timeout (doubling on each
 * further loss), and everything written after it waits behind it (head-of-line blocking).
 * A cut link (partition) holds what is written until it heals, as TCP keeps retransmitting;
 * dials across it get no answer until the dial gives up. A vanished peer (a host killed
 * without warning, a laptop closed) sends and receives nothing more: its peers' connections stay
 * open but silent until their own timeouts notice, and dials to it get no answer.
 *
 * @example
 * ```ts
 * const fabric = new SimFabric({ random: seededRandom(1), link: () => ({ latencyMs: 20, loss: 0.01 }) })
 * fabric.partition([[a, b], [c]])
 * fabric.heal()
 * ```
 */
import { DEFAULT_SIM_RTO_MS } from '../core/constants.ts'

export interface LinkProfile {
  /** One-way delay, ms. */
  latencyMs: number
  /** Probability that one chunk is lost and must be retransmitted, 0..1. */
  loss: number
}

export interface SimFabricInit {
  /** The profile of the link between two peers (peer IDs; called once per pair, in either order). */
  link?: (a: string, b: string) => LinkProfile
  /** Source of randomness for loss (seed it for repeatable runs). Default Math.random. */
  random?: () => number
  /** Retransmission timeout after a loss, ms (Linux's minimum RTO is 200 ms). Default DEFAULT_SIM_RTO_MS. */
  rtoMs?: number
}

/** What happens to a chunk written from one peer to another now. */
export type Route =
  | { kind: 'deliver'; delayMs: number }
  /** The link is cut: keep the chunk until it heals. */
  | { kind: 'hold' }
  /** An end vanished: the chunk is gone. */
  | { kind: 'drop' }

export interface FabricStats {
  chunks: number
  bytes: number
  /** Chunks that were lost at least once and retransmitted. */
  retransmitted: number
  /** Chunks dropped because an end had vanished. */
  dropped: number
}

/** A listener registered by a sim transport; opaque to the fabric. */
export interface FabricListener {
  peerId: string
}

export class SimFabric {
  readonly #link: (a: string, b: string) => LinkProfile
  readonly #random: () => number
  readonly #rtoMs: number
  readonly #links = new Map<string, LinkProfile>()
  readonly #listeners = new Map<string, FabricListener>()
  /** Addresses a vanished peer listened on: dials to them get no answer. */
  readonly #vanishedAddresses = new Set<string>()
  readonly #vanished = new Set<string>()
  /** Peer -> partition group; peers in different groups cannot reach each other. */
  #groups = new Map<string, number>()
  readonly #changeListeners = new Set<() => void>()
  readonly stats: FabricStats = { chunks: 0, bytes: 0, retransmitted: 0, dropped: 0 }

  constructor(init: SimFabricInit = {}) {
    this.#link = init.link ?? (() => ({ latencyMs: 0, loss: 0 }))
    this.#random = init.random ?? Math.random
    this.#rtoMs = init.rtoMs ?? DEFAULT_SIM_RTO_MS
  }

  /** The profile of the link between two peers (fixed the first time it is asked). */
  profile(a: string, b: string): LinkProfile {
    const key = a < b ? `${a} ${b}` : `${b} ${a}`
    let p = this.#links.get(key)
    if (p === undefined) {
      p = a < b ? this.#link(a, b) : this.#link(b, a)
      this.#links.set(key, p)
    }
    return p
  }

  /** Change one link's profile from now on (chunks already on their way keep their times). */
  setLink(a: string, b: string, profile: LinkProfile): void {
    this.#links.set(a < b ? `${a} ${b}` : `${b} ${a}`, profile)
  }

  /** Whether `a` can reach `b` now (both present, same side of any partition). */
  reachable(a: string, b: string): boolean {
    if (this.#vanished.has(a) || this.#vanished.has(b)) return false
    return (this.#groups.get(a) ?? -1) === (this.#groups.get(b) ?? -1)
  }

  route(from: string, to: string, bytes: number): Route {
    if (this.#vanished.has(from) || this.#vanished.has(to)) {
      this.stats.dropped++
      return { kind: 'drop' }
    }
    if (!this.reachable(from, to)) return { kind: 'hold' }
    this.stats.chunks++
    this.stats.bytes += bytes
    const p = this.profile(from, to)
    let delayMs = p.latencyMs
    let rto = this.#rtoMs
    let lost = false
    // Each loss costs one retransmission timeout, doubling (TCP's exponential backoff); capped
    // so a pathological loss rate still delivers eventually.
    for (let i = 0; i < 8 && p.loss > 0 && this.#random() < p.loss; i++) {
      lost = true
      delayMs += rto
      rto *= 2
    }
    if (lost) this.stats.retransmitted++
    return { kind: 'deliver', delayMs }
  }

  /**
   * Cut the network into groups: peers in different groups cannot reach each other; peers named
   * in no group form one more group of their own. Replaces any earlier partition.
   */
  partition(groups: string[][]): void {
    this.#groups = new Map()
    groups.forEach((g, i) => {
      for (const p of g) this.#groups.set(p, i)
    })
    this.#changed()
  }

  /** Undo any partition: what was held on cut links is delivered. */
  heal(): void {
    this.#groups = new Map()
    this.#changed()
  }

  /** The peer vanishes without warning: nothing it sent or was sent arrives any more. */
  vanish(peerId: string): void {
    this.#vanished.add(peerId)
    for (const [address, l] of this.#listeners) if (l.peerId === peerId) this.#vanishedAddresses.add(address)
    this.#changed()
  }

  /** A vanished peer may come back (restarted with the same key). */
  revive(peerId: string): void {
    this.#vanished.delete(peerId)
    this.#changed()
  }

  isVanished(peerId: string): boolean {
    return this.#vanished.has(peerId)
  }

  /** Called when partitions heal or peers come and go (connections flush held chunks). */
  onChange(listener: () => void): () => void {
    this.#changeListeners.add(listener)
    return () => this.#changeListeners.delete(listener)
  }

  /** @internal for the sim transport */
  register(address: string, listener: FabricListener): boolean {
    if (this.#listeners.has(address)) return false
    this.#listeners.set(address, listener)
    this.#vanishedAddresses.delete(address)
    return true
  }

  /** @internal for the sim transport */
  unregister(address: string, listener: FabricListener): void {
    if (this.#listeners.get(address) === listener) this.#listeners.delete(address)
  }

  /** @internal for the sim transport: the listener at an address, or whether a dial there goes unanswered. */
  lookup(address: string): FabricListener | 'silent' | undefined {
    const l = this.#listeners.get(address)
    if (l !== undefined && !this.#vanished.has(l.peerId)) return l
    return l !== undefined || this.#vanishedAddresses.has(address) ? 'silent' : undefined
  }

  #changed(): void {
    for (const l of this.#changeListeners) l()
  }
}
