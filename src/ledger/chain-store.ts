/**
 * This device's hash chain of receipt halves, in the datastore: entry `seq` holds the half this
 * device signed at that position and, once the receipt is complete, the counterparty's half.
 * Appends are serialised (one sequence number is never given twice: a half is stored before it
 * leaves the node), and each counterparty has an index and a running summary (latest totals per
 * kind, receipts, unconfirmed proposals), so the CLI reads them without walking the chain.
 *
 * ```
 * /ledger/head                    { seq, cid }
 * /ledger/chain/<seq>             { h: bytes, ? o: bytes, at: ms }
 * /ledger/peer/<peer>/<seq>       (index)
 * /ledger/summary/<peer>          CounterpartySummary
 * ```
 */
import * as cbor from '@ipld/dag-cbor'
import { Key } from 'interface-datastore'
import type { CID } from 'multiformats/cid'
import type { ServiceKind } from '../core/contribution.ts'
import type { Datastore } from '../store/datastore.ts'
import { readStoredHalf, type SignedHalf } from './receipt.ts'
import { Serial } from './serial.ts'
import type { ChainEntryBytes } from './wire.ts'

const ROOT = '/ledger'
const pad = (seq: number) => String(seq).padStart(16, '0')

export interface ChainEntry {
  seq: number
  /** This device's half. */
  half: SignedHalf
  /** The counterparty's half, once the receipt is complete. */
  other?: SignedHalf
  /** When this node stored it, ms since the epoch. */
  at: number
}

/** Latest cumulative totals with one counterparty for one kind of service, from complete receipts. */
export interface KindTotals {
  /** Bytes this node gave. */
  out: number
  /** Bytes this node received. */
  in: number
  /** Bytes this node holds for the counterparty (storage, mail). */
  held: number
  /** When the latest receipt was signed. */
  t: number
}

export interface CounterpartySummary {
  peer: string
  identity?: string
  kinds: Partial<Record<ServiceKind, KindTotals>>
  /** Complete receipts. */
  receipts: number
  /** Proposals of this node the counterparty never agreed to. */
  unconfirmed: number
  /** The latest entry with it, ms since the epoch. */
  lastAt: number
}

export class ChainStore {
  readonly #ds: Datastore
  readonly #serial = new Serial()
  readonly #summaries = new Map<string, CounterpartySummary>()
  #head: { seq: number; cid: CID } | undefined

  constructor(datastore: Datastore) {
    this.#ds = datastore
  }

  async load(): Promise<void> {
    const head = await this.#getOptional(new Key(`${ROOT}/head`))
    if (head !== undefined) this.#head = cbor.decode(head) as { seq: number; cid: CID }
    for await (const { value } of this.#ds.query({ prefix: `${ROOT}/summary/` })) {
      const s = cbor.decode(value) as CounterpartySummary
      this.#summaries.set(s.peer, s)
    }
  }

  get head(): { seq: number; cid: CID } | undefined {
    return this.#head
  }

  get length(): number {
    return this.#head?.seq ?? 0
  }

  /**
   * Append the half `sign` makes for the next position (`seq`, `prev`), with the counterparty's
   * half when the receipt is already complete. Serialised: positions are never given twice.
   */
  append(sign: (seq: number, prev: CID | null) => Promise<SignedHalf>, other?: SignedHalf): Promise<ChainEntry> {
    return this.#serial.run(async () => {
      const seq = this.length + 1
      const half = await sign(seq, this.#head?.cid ?? null)
      const entry: ChainEntry = { seq, half, at: Date.now(), ...(other === undefined ? {} : { other }) }
      const summary = this.#summaryOf(half, entry.at)
      if (other === undefined) summary.unconfirmed++
      else addTotals(summary, half)
      const batch = this.#ds.batch()
      batch.put(new Key(`${ROOT}/chain/${pad(seq)}`), encodeEntry(entry))
      batch.put(new Key(`${ROOT}/peer/${half.payload.peer}/${pad(seq)}`), new Uint8Array())
      batch.put(new Key(`${ROOT}/summary/${half.payload.peer}`), cbor.encode(summary))
      batch.put(new Key(`${ROOT}/head`), cbor.encode({ seq, cid: half.cid }))
      await batch.commit()
      this.#head = { seq, cid: half.cid }
      this.#summaries.set(half.payload.peer, summary)
      return entry
    })
  }

  /** Attach the counterparty's agreement to a proposal of this chain; undefined if it had one already. */
  complete(seq: number, other: SignedHalf): Promise<ChainEntry | undefined> {
    return this.#serial.run(async () => {
      const entry = await this.get(seq)
      if (entry === undefined || entry.other !== undefined) return undefined
      const done: ChainEntry = { ...entry, other }
      const summary = this.#summaryOf(entry.half, Date.now())
      summary.unconfirmed = Math.max(0, summary.unconfirmed - 1)
      addTotals(summary, entry.half)
      const batch = this.#ds.batch()
      batch.put(new Key(`${ROOT}/chain/${pad(seq)}`), encodeEntry(done))
      batch.put(new Key(`${ROOT}/summary/${entry.half.payload.peer}`), cbor.encode(summary))
      await batch.commit()
      this.#summaries.set(entry.half.payload.peer, summary)
      return done
    })
  }

  async get(seq: number): Promise<ChainEntry | undefined> {
    const bytes = await this.#getOptional(new Key(`${ROOT}/chain/${pad(seq)}`))
    return bytes === undefined ? undefined : decodeEntry(seq, bytes)
  }

  /** Entries from `from`, at most `max` and about `maxBytes`, as they go on the wire. */
  async page(from: number, max: number, maxBytes: number): Promise<{ length: number; entries: ChainEntryBytes[] }> {
    const length = this.length
    const entries: ChainEntryBytes[] = []
    let bytes = 0
    for (let seq = from; seq <= length && entries.length < max; seq++) {
      const raw = await this.#getOptional(new Key(`${ROOT}/chain/${pad(seq)}`))
      if (raw === undefined) break
      const e = cbor.decode(raw) as { h: Uint8Array; o?: Uint8Array }
      const size = e.h.length + (e.o?.length ?? 0) + 16
      if (bytes + size > maxBytes && entries.length > 0) break
      bytes += size
      entries.push(e.o === undefined ? { h: e.h } : { h: e.h, o: e.o })
    }
    return { length, entries }
  }

  /** The entries with one counterparty, newest first. */
  async entriesWith(peer: string, limit: number): Promise<ChainEntry[]> {
    const seqs: number[] = []
    for await (const key of this.#ds.queryKeys({ prefix: `${ROOT}/peer/${peer}/` }))
      seqs.push(Number(key.baseNamespace()))
    seqs.sort((a, b) => b - a)
    const out: ChainEntry[] = []
    for (const seq of seqs.slice(0, limit)) {
      const e = await this.get(seq)
      if (e !== undefined) out.push(e)
    }
    return out
  }

  /** The last `count` entries, newest first (to remember their halves at start). */
  async latest(count: number): Promise<ChainEntry[]> {
    const out: ChainEntry[] = []
    for (let seq = this.length; seq >= 1 && out.length < count; seq--) {
      const e = await this.get(seq)
      if (e !== undefined) out.push(e)
    }
    return out
  }

  summaries(): CounterpartySummary[] {
    return [...this.#summaries.values()]
  }

  summary(peer: string): CounterpartySummary | undefined {
    return this.#summaries.get(peer)
  }

  #summaryOf(half: SignedHalf, at: number): CounterpartySummary {
    const peer = half.payload.peer
    const old = this.#summaries.get(peer)
    const summary: CounterpartySummary =
      old === undefined
        ? { peer, kinds: {}, receipts: 0, unconfirmed: 0, lastAt: at }
        : { ...old, kinds: { ...old.kinds }, lastAt: at }
    if (half.payload.pid !== undefined) summary.identity = half.payload.pid
    return summary
  }

  async #getOptional(key: Key): Promise<Uint8Array | undefined> {
    try {
      return await this.#ds.get(key)
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') return undefined
      throw err
    }
  }
}

/** Count a complete receipt into a summary: totals are cumulative, so the larger wins. */
function addTotals(summary: CounterpartySummary, half: SignedHalf): void {
  const h = half.payload
  const old = summary.kinds[h.kind]
  summary.kinds[h.kind] = {
    out: Math.max(old?.out ?? 0, h.out),
    in: Math.max(old?.in ?? 0, h.in),
    held: old === undefined || h.t >= old.t ? (h.held ?? 0) : old.held,
    t: Math.max(old?.t ?? 0, h.t),
  }
  summary.receipts++
}

function encodeEntry(e: ChainEntry): Uint8Array {
  return cbor.encode(
    e.other === undefined ? { h: e.half.bytes, at: e.at } : { h: e.half.bytes, o: e.other.bytes, at: e.at },
  )
}

/** Stored entries were verified before they were stored: read back without checking signatures again. */
function decodeEntry(seq: number, bytes: Uint8Array): ChainEntry {
  const e = cbor.decode(bytes) as { h: Uint8Array; o?: Uint8Array; at: number }
  const half = readStoredHalf(e.h)
  const entry: ChainEntry = { seq, half, at: e.at }
  if (e.o !== undefined) entry.other = readStoredHalf(e.o)
  return entry
}
