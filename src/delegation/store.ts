/**
 * What the delegation service keeps on disk, under `/lateral/delegation/`:
 *
 * | key | value |
 * |---|---|
 * | `token/<cid>` | a delegation's envelope bytes (given, received, or a proof of one) |
 * | `given/<cid>` | a delegation this node issued: its chain (root first), audience, when, delivered |
 * | `received/<cid>` | a delegation to this node: its chain (root first), who sent it, when |
 * | `revocation/<revoked cid>/<revocation cid>` | a revocation's bytes, kept even before the delegation it names |
 * | `seen/<invocation cid>` | until when an invocation is remembered (replay) |
 *
 * An index of the records is held in memory (bounded by `delegationsMax` and `revocationsMax`);
 * every write goes to the datastore first.
 */
import * as cbor from '@ipld/dag-cbor'
import { Key } from 'interface-datastore'
import { DelegationError, StorageFullError } from '../core/errors.ts'
import type { Datastore } from '../store/datastore.ts'
import type { ReplayGuard, Revocation } from './ucan/index.ts'
import { verifyRevocation } from './ucan/index.ts'

const ROOT = '/lateral/delegation'

export interface GrantRecord {
  /** CID of the delegation (the last link of `chain`). */
  cid: string
  /** CIDs of the chain, root first. */
  chain: string[]
  /** The peer it was given to (given) or that sent it (received). */
  peer: string
  /** When this node issued or received it, ms. */
  at: number
  /** Given only: whether the audience acknowledged it. */
  delivered?: boolean
}

export interface DelegationStoreInit {
  delegationsMax: number
  revocationsMax: number
  replayMax: number
  /** Revocations kept per revoker. */
  perRevokerMax: number
}

export class DelegationStore {
  readonly #ds: Datastore
  readonly #init: DelegationStoreInit
  readonly #tokens = new Map<string, Uint8Array>()
  readonly #given = new Map<string, GrantRecord>()
  readonly #received = new Map<string, GrantRecord>()
  /** Revocations by the CID of the delegation they name. */
  readonly #revocations = new Map<string, Map<string, Revocation>>()
  #revocationCount = 0
  readonly #byRevoker = new Map<string, number>()
  readonly #seen = new Map<string, number | null>()

  constructor(datastore: Datastore, init: DelegationStoreInit) {
    this.#ds = datastore
    this.#init = init
  }

  async load(): Promise<void> {
    for await (const { key, value } of this.#ds.query({ prefix: `${ROOT}/token/` })) {
      this.#tokens.set(key.baseNamespace(), value)
    }
    for (const [kind, map] of [
      ['given', this.#given],
      ['received', this.#received],
    ] as const) {
      for await (const { value } of this.#ds.query({ prefix: `${ROOT}/${kind}/` })) {
        const record = cbor.decode(value) as GrantRecord
        map.set(record.cid, record)
      }
    }
    for await (const { value } of this.#ds.query({ prefix: `${ROOT}/revocation/` })) {
      try {
        this.#remember(verifyRevocation(value))
      } catch {
        // Written by this node after verification: only a damaged store gets here; skip it.
      }
    }
    const now = Math.floor(Date.now() / 1000)
    for await (const { key, value } of this.#ds.query({ prefix: `${ROOT}/seen/` })) {
      const until = cbor.decode(value) as number | null
      if (until !== null && until < now) await this.#ds.delete(key)
      else this.#seen.set(key.baseNamespace(), until)
    }
  }

  token(cid: string): Uint8Array | undefined {
    return this.#tokens.get(cid)
  }

  /** Keep delegation envelopes (already verified by the caller). */
  async putTokens(tokens: ReadonlyArray<{ cid: string; bytes: Uint8Array }>): Promise<void> {
    const fresh = tokens.filter((t) => !this.#tokens.has(t.cid))
    if (this.#tokens.size + fresh.length > this.#init.delegationsMax) {
      throw new StorageFullError(
        `this node keeps at most ${this.#init.delegationsMax} delegations (delegation.delegationsMax)`,
      )
    }
    const batch = this.#ds.batch()
    for (const t of fresh) batch.put(new Key(`${ROOT}/token/${t.cid}`), t.bytes)
    await batch.commit()
    for (const t of fresh) this.#tokens.set(t.cid, t.bytes)
  }

  given(): GrantRecord[] {
    return [...this.#given.values()]
  }

  received(): GrantRecord[] {
    return [...this.#received.values()]
  }

  givenRecord(cid: string): GrantRecord | undefined {
    return this.#given.get(cid)
  }

  receivedRecord(cid: string): GrantRecord | undefined {
    return this.#received.get(cid)
  }

  async putGiven(record: GrantRecord): Promise<void> {
    await this.#ds.put(new Key(`${ROOT}/given/${record.cid}`), cbor.encode(record))
    this.#given.set(record.cid, record)
  }

  async putReceived(record: GrantRecord): Promise<void> {
    await this.#ds.put(new Key(`${ROOT}/received/${record.cid}`), cbor.encode(record))
    this.#received.set(record.cid, record)
  }

  revocationsOf(cid: string): Revocation[] {
    return [...(this.#revocations.get(cid)?.values() ?? [])]
  }

  /** Keep a verified revocation; false when it was known already. */
  async putRevocation(revocation: Revocation): Promise<boolean> {
    if (this.#revocations.get(revocation.revoked)?.has(revocation.cid) === true) return false
    if ((this.#byRevoker.get(revocation.revoker) ?? 0) >= this.#init.perRevokerMax) {
      throw new StorageFullError(
        `${revocation.revoker} has ${this.#init.perRevokerMax} revocations kept here already (delegation.perRevokerMax)`,
      )
    }
    if (this.#revocationCount >= this.#init.revocationsMax) {
      throw new StorageFullError(
        `this node keeps at most ${this.#init.revocationsMax} revocations (delegation.revocationsMax)`,
      )
    }
    await this.#ds.put(new Key(`${ROOT}/revocation/${revocation.revoked}/${revocation.cid}`), revocation.bytes)
    this.#remember(revocation)
    return true
  }

  #remember(revocation: Revocation): void {
    let forCid = this.#revocations.get(revocation.revoked)
    if (forCid === undefined) {
      forCid = new Map()
      this.#revocations.set(revocation.revoked, forCid)
    }
    if (!forCid.has(revocation.cid)) {
      this.#revocationCount++
      this.#byRevoker.set(revocation.revoker, (this.#byRevoker.get(revocation.revoker) ?? 0) + 1)
    }
    forCid.set(revocation.cid, revocation)
  }

  /** The replay record, on disk so that a restart does not let an invocation through twice. */
  readonly replay: ReplayGuard = {
    seen: (cid) => this.#seen.has(cid),
    claim: async (cid, until, now) => {
      if (this.#seen.has(cid)) return false
      if (this.#seen.size >= this.#init.replayMax) {
        await this.#sweepSeen(now)
        // Another claim of the same CID may have run during the sweep.
        if (this.#seen.has(cid)) return false
      }
      if (this.#seen.size >= this.#init.replayMax) {
        throw new DelegationError(
          `the replay record holds ${this.#init.replayMax} unexpired invocations: no new one is taken until some expire`,
          'ReplayStoreFull',
          { link: 'invocation', cid },
        )
      }
      // Claimed in memory first: two copies arriving at once cannot both pass the write.
      this.#seen.set(cid, until)
      await this.#ds.put(new Key(`${ROOT}/seen/${cid}`), cbor.encode(until))
      return true
    },
  }

  async #sweepSeen(now: number): Promise<void> {
    for (const [cid, until] of this.#seen) {
      if (until !== null && until < now) {
        this.#seen.delete(cid)
        await this.#ds.delete(new Key(`${ROOT}/seen/${cid}`))
      }
    }
  }
}
