/**
 * What a download session still needs, and who has it.
 *
 * A wanted block is `pending` (nobody asked yet), `inflight` (asked of one or more peers) or
 * `storing` (arrived, being written). Peers' have / dont-have answers are kept only for blocks
 * that are pending or in flight: an answer about anything else is ignored, so a peer cannot
 * grow this list by naming CIDs the session never asked about. The availability records are
 * therefore bounded by (wanted blocks) x (peers in the session), and are dropped as soon as a
 * block arrives or a peer leaves.
 */
import type { CID } from 'multiformats/cid'

export interface Inflight {
  cid: CID
  /** Peer -> time requested. */
  askedOf: Map<string, number>
}

export interface WantListSizes {
  pending: number
  inflight: number
  storing: number
  /** (block, peer) pairs recorded from have answers. */
  haves: number
  /** (block, peer) pairs recorded from dont-have answers. */
  lacks: number
}

export class WantList {
  /** DAG order (breadth-first): the scheduler looks at the first ones. */
  readonly pending = new Map<string, CID>()
  readonly inflight = new Map<string, Inflight>()
  readonly storing = new Set<string>()
  readonly #haves = new Map<string, Set<string>>()
  readonly #lacks = new Map<string, Set<string>>()

  /** Whether the session already knows this block (wanted, asked for or being stored). */
  has(key: string): boolean {
    return this.pending.has(key) || this.inflight.has(key) || this.storing.has(key)
  }

  /** Pending or in flight: the blocks peers' answers may be about. */
  wants(key: string): boolean {
    return this.pending.has(key) || this.inflight.has(key)
  }

  get empty(): boolean {
    return this.pending.size === 0 && this.inflight.size === 0 && this.storing.size === 0
  }

  add(cid: CID): void {
    this.pending.set(cid.toString(), cid)
  }

  /** Every block not yet arrived (to ask a new peer what it has). */
  outstanding(): CID[] {
    return [...this.pending.values(), ...[...this.inflight.values()].map((f) => f.cid)]
  }

  /** A peer says it has a block. False (nothing recorded) unless the block is wanted. */
  noteHave(key: string, peerId: string): boolean {
    if (!this.wants(key)) return false
    addTo(this.#haves, key, peerId)
    this.#lacks.get(key)?.delete(peerId)
    return true
  }

  /** A peer says it lacks a block. False (nothing recorded) unless the block is wanted. */
  noteLack(key: string, peerId: string): boolean {
    if (!this.wants(key)) return false
    addTo(this.#lacks, key, peerId)
    removeFrom(this.#haves, key, peerId)
    return true
  }

  holders(key: string): Set<string> | undefined {
    return this.#haves.get(key)
  }

  lacks(key: string, peerId: string): boolean {
    return this.#lacks.get(key)?.has(peerId) === true
  }

  /** Ask `peerId` for a pending (or, in the end-game, in-flight) block. */
  assign(cid: CID, peerId: string, now: number): void {
    const key = cid.toString()
    this.pending.delete(key)
    const flight = this.inflight.get(key) ?? { cid, askedOf: new Map<string, number>() }
    flight.askedOf.set(peerId, now)
    this.inflight.set(key, flight)
  }

  /** `peerId` no longer serves this request; with no one else on it, it is pending again. */
  unassign(key: string, peerId: string): void {
    const flight = this.inflight.get(key)
    if (flight === undefined) return
    flight.askedOf.delete(peerId)
    if (flight.askedOf.size === 0) {
      this.inflight.delete(key)
      this.pending.set(key, flight.cid)
    }
  }

  /** The first copy of a block arrived: it is being stored. Returns who else was asked. */
  arrived(key: string): Inflight | undefined {
    const flight = this.inflight.get(key)
    if (flight === undefined) return undefined
    this.inflight.delete(key)
    this.storing.add(key)
    this.#haves.delete(key)
    this.#lacks.delete(key)
    return flight
  }

  /** Stored (or failed to store): no longer wanted. */
  settled(key: string): void {
    this.storing.delete(key)
  }

  /** A peer left the session: forget its answers. */
  forgetPeer(peerId: string): void {
    for (const [key, set] of this.#haves) if (set.delete(peerId) && set.size === 0) this.#haves.delete(key)
    for (const [key, set] of this.#lacks) if (set.delete(peerId) && set.size === 0) this.#lacks.delete(key)
  }

  sizes(): WantListSizes {
    let haves = 0
    let lacks = 0
    for (const set of this.#haves.values()) haves += set.size
    for (const set of this.#lacks.values()) lacks += set.size
    return {
      pending: this.pending.size,
      inflight: this.inflight.size,
      storing: this.storing.size,
      haves,
      lacks,
    }
  }
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key)
  if (set === undefined) map.set(key, new Set([value]))
  else set.add(value)
}

function removeFrom(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key)
  if (set?.delete(value) === true && set.size === 0) map.delete(key)
}
