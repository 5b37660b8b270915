/**
 * One identity's log: the entries held (a DAG of signed records), their merged state, and writing
 * new entries as one of its devices. Pure: no network and no storage (store.ts persists entries).
 * Every entry taken is verified (signature, schema, size, rules of its past) before it is held;
 * the state is the deterministic merge of the held entries (merge.ts), computed when asked.
 */
import { CID } from 'multiformats/cid'
import {
  DEFAULT_IDENTITY_ENTRY_MAX_BYTES,
  DEFAULT_IDENTITY_PENDING_MAX,
  DEFAULT_LOG_MAX_ENTRIES,
  IDENTITY_MAX_PREV,
  MAX_CLOCK_SKEW_MS,
} from '../../core/constants.ts'
import { randomBytes } from '../../core/crypto.ts'
import { IdentityLogFullError, IdentityRuleError, InvalidInputError, NotFoundError } from '../../core/errors.ts'
import { recordCid } from '../../core/signed-record.ts'
import type { KeyAgreement, Signer } from '../../core/signer.ts'
import { batchOrder } from './batch-order.ts'
import { EntryDag, type HeldEntry } from './dag.ts'
import { openDataKey } from './data-key.ts'
import type { EntryCommon, PayloadOf, SealedDataKey } from './entries.ts'
import { NONCE_BYTES, validateGenesis } from './entries.ts'
import { decodeEntry, type IdentityEntry, signEntry } from './entry-codec.ts'
import { normaliseName } from './fields.ts'
import { extend, type Resolution, resolve } from './merge.ts'
import type { GuardianSetState } from './recovery-rules.ts'
import { admit, type DeviceRecord, type IdentityState, type RemovedDeviceRecord, snapshot } from './rules.ts'
import { buildPayload, type EntryInput } from './write.ts'

export type { EntryInput }

export interface IdentityLogInit {
  /** Entries the log holds at most, void ones included (DEFAULT_LOG_MAX_ENTRIES). */
  maxEntries?: number
  /** Entries held while their parents are unknown (DEFAULT_IDENTITY_PENDING_MAX). */
  maxPending?: number
  /** Largest entry taken or written, bytes (DEFAULT_IDENTITY_ENTRY_MAX_BYTES). */
  maxEntryBytes?: number
  /** The clock entries are dated with, ms since the Unix epoch (tests). */
  now?: () => number
}

/** The first device, as the genesis names it. */
export interface GenesisInit {
  /** The device's name ("laptop"). */
  name: string
  /** The display name others see, if known now. */
  profile?: string
}

export type AddResult =
  /** Held; `released`: entries that were waiting for it and are now held too; `dropped`: those refused. */
  | { status: 'added'; cid: string; released: string[]; dropped: Array<{ cid: string; error: Error }> }
  | { status: 'duplicate'; cid: string }
  /** Waiting for the parents in `missing`. */
  | { status: 'pending'; cid: string; missing: string[] }

export interface AppendedEntry {
  cid: string
  bytes: Uint8Array
  entry: IdentityEntry
}

export class IdentityLog {
  /** The identity ID: CID of the genesis entry. */
  readonly id: string
  readonly #dag: EntryDag
  readonly #maxEntryBytes: number
  readonly #now: () => number
  #resolution: Resolution | undefined
  #writing: Promise<unknown> = Promise.resolve()

  /** Start a new identity whose first device is `signer` (its X25519 key from `x25519`). */
  static async create(
    signer: Signer,
    x25519: KeyAgreement | Uint8Array,
    genesis: GenesisInit,
    init: IdentityLogInit = {},
  ): Promise<IdentityLog> {
    const payload: PayloadOf['genesis'] = {
      device: signer.peerId,
      name: normaliseName(genesis.name),
      x25519: x25519 instanceof Uint8Array ? x25519 : x25519.x25519PublicKey,
      time: (init.now ?? Date.now)(),
      nonce: randomBytes(NONCE_BYTES),
    }
    if (genesis.profile !== undefined) payload.profile = normaliseName(genesis.profile)
    validateGenesis(payload)
    return IdentityLog.fromGenesis(await signEntry(signer, 'genesis', payload), init)
  }

  /** A log holding only the genesis `bytes` (verified); add the other entries with `add`. */
  static fromGenesis(bytes: Uint8Array, init: IdentityLogInit = {}): IdentityLog {
    const maxEntryBytes = init.maxEntryBytes ?? DEFAULT_IDENTITY_ENTRY_MAX_BYTES
    return new IdentityLog(decodeEntry(bytes, maxEntryBytes), init)
  }

  private constructor(genesis: IdentityEntry, init: IdentityLogInit) {
    this.#dag = new EntryDag(genesis, {
      maxEntries: init.maxEntries ?? DEFAULT_LOG_MAX_ENTRIES,
      maxPending: init.maxPending ?? DEFAULT_IDENTITY_PENDING_MAX,
    })
    this.id = genesis.cid
    this.#maxEntryBytes = init.maxEntryBytes ?? DEFAULT_IDENTITY_ENTRY_MAX_BYTES
    this.#now = init.now ?? Date.now
  }

  /**
   * Verify and take an entry from anywhere (a peer, storage). Throws InvalidInputError (bad bytes,
   * signature, schema, size), IdentityRuleError (a rule of its past), ForkError, or
   * IdentityLogFullError; an entry that breaks a rule of the merged state is held but void.
   */
  add(bytes: Uint8Array): AddResult {
    // Peers send what we hold again and again: the same bytes were verified already.
    if (bytes instanceof Uint8Array && bytes.length <= this.#maxEntryBytes) {
      const cid = recordCid(bytes).toString()
      if (this.#dag.has(cid)) return { status: 'duplicate', cid }
      const missing = this.#dag.pendingMissing(cid)
      if (missing !== undefined) return { status: 'pending', cid, missing }
    }
    const entry = decodeEntry(bytes, this.#maxEntryBytes)
    // A completion's time decides whether the recovery was due: one from the future is not taken
    // yet (the peer that sends it again later gets it in).
    if (entry.kind === 'completeRecovery' && entry.time > this.#now() + MAX_CLOCK_SKEW_MS) {
      throw new InvalidInputError(
        `entry ${entry.cid} is dated ${new Date(entry.time).toISOString()}, ahead of this clock`,
      )
    }
    return this.#take(entry)
  }

  /**
   * Verify a whole log received at once: `entries` in any order, the genesis `genesisCid` among
   * them. Throws the first refusal, as `add` does; an entry naming a parent that is not in
   * `entries` fails it too (InvalidInputError). Returns the log, ready to take more.
   */
  static verify(genesisCid: string, entries: Uint8Array[], init: IdentityLogInit = {}): IdentityLog {
    const maxEntries = init.maxEntries ?? DEFAULT_LOG_MAX_ENTRIES
    if (entries.length > maxEntries) {
      throw new IdentityLogFullError(`a log of ${entries.length} entries exceeds the limit of ${maxEntries}`)
    }
    const maxEntryBytes = init.maxEntryBytes ?? DEFAULT_IDENTITY_ENTRY_MAX_BYTES
    const batch = new Map<string, IdentityEntry>()
    entries.forEach((bytes, i) => {
      try {
        const entry = decodeEntry(bytes, maxEntryBytes)
        batch.set(entry.cid, entry)
      } catch (err) {
        throw new InvalidInputError(`entry ${i} of the log: ${(err as Error).message}`)
      }
    })
    const genesis = batch.get(genesisCid)
    if (genesis?.kind !== 'genesis') throw new InvalidInputError(`the log has no genesis entry ${genesisCid}`)
    batch.delete(genesisCid)
    const log = new IdentityLog(genesis, init)
    for (const entry of batchOrder(batch, (cid) => cid === genesisCid)) log.#take(entry)
    return log
  }

  #take(entry: IdentityEntry): AddResult {
    const result = this.#dag.offer(entry)
    for (const held of result.added) {
      if (this.#resolution !== undefined && this.#dag.sawAll(held)) extend(this.#resolution, held)
      else this.#resolution = undefined
    }
    const [first, ...released] = result.added
    if (result.status === 'pending') return { status: 'pending', cid: entry.cid, missing: result.missing ?? [] }
    if (result.status === 'duplicate' || first === undefined) return { status: 'duplicate', cid: entry.cid }
    return { status: 'added', cid: entry.cid, released: released.map((h) => h.entry.cid), dropped: result.dropped }
  }

  /**
   * Write an entry as `signer`, a current device: it names every head (up to 8, its own latest
   * entry's among them) and the device's next `seq`. Refused (IdentityRuleError, nothing signed)
   * when the merged state would not let it take effect. Appends are serialised: one `seq` each.
   */
  append(signer: Signer, input: EntryInput, options: { time?: number } = {}): Promise<AppendedEntry> {
    const run = this.#writing.then(() => this.#append(signer, input, options.time ?? this.#now()))
    this.#writing = run.catch(() => {})
    return run
  }

  async #append(signer: Signer, input: EntryInput, time: number): Promise<AppendedEntry> {
    const state = this.#resolved().state
    const recovering = input.kind === 'recover' || input.kind === 'completeRecovery'
    if (!recovering && !state.devices.has(signer.peerId)) {
      throw new IdentityRuleError(`${signer.peerId} is not a device of identity ${this.id}`)
    }
    const prev = this.#prevFor(signer.peerId)
    const common: EntryCommon = {
      identity: this.id,
      prev: prev.map((c) => CID.parse(c)),
      device: signer.peerId,
      seq: this.#dag.nextSeq(signer.peerId),
      time,
    }
    const { kind, payload } = buildPayload(input, common, state)
    const entry = decodeEntry(await signEntry(signer, kind, payload), this.#maxEntryBytes)
    const candidate: HeldEntry = { entry, vv: this.#dag.pastOf(prev).set(entry.device, entry.seq) }
    const reason = admit(this.#resolved().state, candidate, (x) => this.#dag.precedes(x, candidate))
    if (reason !== undefined) throw new IdentityRuleError(`refused to write ${kind}: ${reason}`)
    this.#take(entry)
    return { cid: entry.cid, bytes: entry.bytes, entry }
  }

  /** The heads a new entry of `device` names: all of them, or 8 that include its own latest. */
  #prevFor(device: string): string[] {
    const heads = this.#dag.heads()
    if (heads.length <= IDENTITY_MAX_PREV) return heads
    const latest = this.#dag.latestOf(device)
    const own = latest && heads.find((h) => this.#dag.precedes(latest, this.#dag.get(h) as HeldEntry))
    const chosen = own === undefined ? [] : [own]
    for (const head of heads) if (chosen.length < IDENTITY_MAX_PREV && head !== own) chosen.push(head)
    return chosen.sort()
  }

  #resolved(): Resolution {
    this.#resolution ??= resolve(this.#dag)
    return this.#resolution
  }

  /** The merged state (a copy). */
  state(): IdentityState {
    return snapshot(this.#resolved().state, this.#dag.heads(), this.#dag.size, this.#now())
  }

  /** Every held entry's bytes, parents before children (the merge order): what to send a peer. */
  entries(): Uint8Array[] {
    return this.#resolved().order.map((h) => h.entry.bytes)
  }

  /** A held entry's bytes. */
  entry(cid: string): Uint8Array | undefined {
    return this.#dag.get(cid)?.entry.bytes
  }

  /** A held entry, decoded. */
  decoded(cid: string): IdentityEntry | undefined {
    return this.#dag.get(cid)?.entry
  }

  heads(): string[] {
    return this.#dag.heads()
  }

  /** Entries held (void ones included). */
  get size(): number {
    return this.#dag.size
  }

  /** Parents that pending entries wait for: fetch these from the peer that sent them. */
  missing(): string[] {
    return this.#dag.missing()
  }

  /** Why a held entry did not take effect, or undefined when it did (or is not held). */
  voidReason(cid: string): string | undefined {
    return this.#resolved().voided.get(cid)
  }

  isMember(peerId: string): boolean {
    return this.#resolved().state.devices.has(peerId)
  }

  device(peerId: string): DeviceRecord | undefined {
    return this.state().devices.find((d) => d.peerId === peerId)
  }

  /** The guardian set written by entry `cid` (its shares and digests included), if it took effect. */
  guardianSet(cid: string): GuardianSetState | undefined {
    return this.#resolved().state.guardianSets.find((s) => s.entry === cid)
  }

  /** The removal of `peerId`, if it was removed: its signatures are refused from then on. */
  revokedAt(peerId: string): RemovedDeviceRecord | undefined {
    const removed = this.#resolved().state.removed.get(peerId)
    return removed === undefined ? undefined : { ...removed }
  }

  /**
   * Open this device's copy of the data key of `epoch` (the current one by default). Data sealed
   * under an earlier epoch stays readable to the devices that held that epoch's key; a device
   * added later, or removed before a rotation, has no copy of it. NotFoundError when this
   * device has no copy of that epoch's key.
   */
  openDataKey(keyAgreement: KeyAgreement, peerId: string, epoch?: number): { epoch: number; key: Uint8Array } {
    const current = this.#resolved().state.dataKey
    const wanted = epoch ?? current.epoch
    const copy = wanted === current.epoch ? current.sealed.get(peerId) : this.#pastCopy(wanted, peerId)
    if (copy === undefined)
      throw new NotFoundError(`identity ${this.id} has no data key (epoch ${wanted}) for ${peerId}`)
    return { epoch: wanted, key: openDataKey(copy, keyAgreement, { identity: this.id, epoch: wanted, device: peerId }) }
  }

  /** This device's copy in the rotateDataKey entry of a past epoch that took effect. */
  #pastCopy(epoch: number, peerId: string): SealedDataKey | undefined {
    const { order, voided } = this.#resolved()
    for (const held of order) {
      const e = held.entry
      if (e.kind !== 'rotateDataKey' || e.payload.epoch !== epoch || voided.has(e.cid)) continue
      return e.payload.sealed.find((s) => s.device === peerId)
    }
    return undefined
  }
}

/** Verify a whole received log (see IdentityLog.verify). */
export function verifyLog(genesisCid: string, entries: Uint8Array[], init: IdentityLogInit = {}): IdentityLog {
  return IdentityLog.verify(genesisCid, entries, init)
}
