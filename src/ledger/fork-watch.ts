/**
 * Forks: a device that signs two different halves with one sequence number keeps two versions
 * of its history (to count one gift twice, or to hide a receipt). Any two such halves are a
 * portable proof: anyone checks the two signatures, and nothing else is needed to believe it.
 *
 * This node remembers the halves it sees (its own receipts' counterparts, chains it fetches,
 * receipts gossiped), at most `seenMax` (the oldest forgotten first), so that a second half at
 * a position already seen is caught; it keeps the proofs (at most `forksMax`), and refuses
 * service to each offender: the device, and its identity when this node's identity directory
 * confirms the device belongs to the identity the halves name.
 *
 * ```
 * /ledger/forks/<device>/<seq>   { a: bytes, b: bytes }   (halves in CID order)
 * ```
 */
import { Key } from 'interface-datastore'
import { InvalidInputError } from '../core/errors.ts'
import type { Datastore } from '../store/datastore.ts'
import { type SignedHalf, verifyHalf } from './receipt.ts'
import { decodeForkProof, encodeMessage } from './wire.ts'

const ROOT = '/ledger/forks'

export interface ForkProof {
  /** The device that signed both halves. */
  offender: string
  /** The identity both halves name for it, if they do. */
  identity?: string
  seq: number
  a: SignedHalf
  b: SignedHalf
  /** The proof as it is stored and gossiped. */
  bytes: Uint8Array
  /** When this node learned it, ms since the epoch. */
  at: number
}

/** A proof from two halves by one device at one position with different content; throws otherwise. */
export function forkProof(x: SignedHalf, y: SignedHalf, at = Date.now()): ForkProof {
  if (x.payload.dev !== y.payload.dev) throw new InvalidInputError('fork proof: the halves are by different devices')
  if (x.payload.seq !== y.payload.seq) throw new InvalidInputError('fork proof: the halves are at different positions')
  const [cx, cy] = [x.cid.toString(), y.cid.toString()]
  if (cx === cy) throw new InvalidInputError('fork proof: the halves are the same')
  const [a, b] = cx < cy ? [x, y] : [y, x]
  const identity = a.payload.id !== undefined && a.payload.id === b.payload.id ? a.payload.id : undefined
  return {
    offender: a.payload.dev,
    ...(identity === undefined ? {} : { identity }),
    seq: a.payload.seq,
    a,
    b,
    bytes: encodeMessage({ a: a.bytes, b: b.bytes }),
    at,
  }
}

/** Decode and check a proof from a peer: both signatures, one device, one position, two contents. */
export function verifyForkProof(bytes: Uint8Array, at = Date.now()): ForkProof {
  const m = decodeForkProof(bytes)
  return forkProof(verifyHalf(m.a), verifyHalf(m.b), at)
}

export interface ForkWatchInit {
  /** Halves of other devices remembered. */
  seenMax: number
  /** Proofs kept. */
  forksMax: number
  /** The identity a device belongs to, as this node's identity directory knows it. */
  identityOf(peerId: string): string | undefined
}

export class ForkWatch {
  readonly #ds: Datastore
  readonly #init: ForkWatchInit
  /** device -> seq -> the half's CID and bytes. */
  readonly #seen = new Map<string, Map<number, { cid: string; bytes: Uint8Array }>>()
  readonly #order: Array<[string, number]> = []
  #seenCount = 0
  readonly #proofs = new Map<string, ForkProof>()
  readonly #offenders = new Set<string>()

  constructor(datastore: Datastore, init: ForkWatchInit) {
    this.#ds = datastore
    this.#init = init
  }

  async load(): Promise<void> {
    for await (const { value } of this.#ds.query({ prefix: `${ROOT}/` })) {
      try {
        this.#keep(verifyForkProof(value))
      } catch {
        // A stored proof that no longer verifies is ignored (it was checked when stored).
      }
    }
  }

  /**
   * Remember a verified half; when another half is known at its position, the proof (not yet
   * stored: `add` it).
   */
  observe(half: SignedHalf): ForkProof | undefined {
    const { dev, seq } = half.payload
    const cid = half.cid.toString()
    let bySeq = this.#seen.get(dev)
    const known = bySeq?.get(seq)
    if (known !== undefined) {
      if (known.cid === cid) return undefined
      return forkProof(verifyHalf(known.bytes), half)
    }
    if (bySeq === undefined) {
      bySeq = new Map()
      this.#seen.set(dev, bySeq)
    }
    bySeq.set(seq, { cid, bytes: half.bytes })
    this.#order.push([dev, seq])
    this.#seenCount++
    while (this.#seenCount > this.#init.seenMax) this.#forgetOldest()
    return undefined
  }

  /** Keep a proof (and refuse its offender). False when it was known, or the store is full. */
  async add(proof: ForkProof): Promise<boolean> {
    const id = `${proof.offender}/${proof.seq}`
    if (this.#proofs.has(id) || this.#proofs.size >= this.#init.forksMax) return false
    this.#keep(proof)
    await this.#ds.put(new Key(`${ROOT}/${id}`), proof.bytes)
    return true
  }

  /** The CID of the half remembered by `dev` at `seq`. */
  seen(dev: string, seq: number): string | undefined {
    return this.#seen.get(dev)?.get(seq)?.cid
  }

  has(offender: string, seq: number): boolean {
    return this.#proofs.has(`${offender}/${seq}`)
  }

  proofs(): ForkProof[] {
    return [...this.#proofs.values()].sort((x, y) => y.at - x.at)
  }

  /** Refused: a device proven to fork, or a device of an identity one of whose devices forked. */
  refuses(peerId: string): boolean {
    if (this.#offenders.has(peerId)) return true
    const identity = this.#init.identityOf(peerId)
    if (identity === undefined) return false
    for (const p of this.#proofs.values())
      if (p.identity === identity && this.#init.identityOf(p.offender) === identity) return true
    return false
  }

  /** The proof that makes this peer refused, if any. */
  proofAgainst(peerId: string): ForkProof | undefined {
    const identity = this.#init.identityOf(peerId)
    for (const p of this.#proofs.values()) {
      if (p.offender === peerId) return p
      if (identity !== undefined && p.identity === identity && this.#init.identityOf(p.offender) === identity) return p
    }
    return undefined
  }

  #keep(proof: ForkProof): void {
    this.#proofs.set(`${proof.offender}/${proof.seq}`, proof)
    this.#offenders.add(proof.offender)
  }

  #forgetOldest(): void {
    const oldest = this.#order.shift()
    if (oldest === undefined) return
    const [dev, seq] = oldest
    const bySeq = this.#seen.get(dev)
    if (bySeq?.delete(seq) === true) this.#seenCount--
    if (bySeq?.size === 0) this.#seen.delete(dev)
  }
}
