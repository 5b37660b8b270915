/**
 * Where direct messages live in the datastore (LevelDB), under `/lateral/dm/`:
 *
 * | key | value |
 * |---|---|
 * | `inbox/<receivedAt:15>-<arrival:6>-<id>` | the opened message (recipient's store only), in arrival order |
 * | `outbox/<to>/<seq:12>` | the sealed envelope for the recipient, a sealed copy for the sender, delivery state |
 * | `seq/<to>` | last sequence number used towards a recipient |
 * | `seen/<from>/<receivedAt:15>-<id>` | received IDs, so a retried message is stored once (dm-seen.ts) |
 *
 * No plaintext is written anywhere but the recipient's inbox. The writes that must go together
 * (a sequence number and its outbox entry; an inbox entry and its seen record) are one batch.
 */
import * as cbor from '@ipld/dag-cbor'
import { Key } from 'interface-datastore'
import type { Datastore } from '../store/datastore.ts'
import type { DirectMessage } from './dm-envelope.ts'
import { DM_ROOT, SeenRecords } from './dm-seen.ts'

export interface InboxEntry extends DirectMessage {
  receivedAt: number
  /** The sender's identity, when this node knew it at arrival. */
  identity?: string
}

export interface OutboxEntry {
  id: string
  to: string
  seq: number
  createdAt: number
  /** Envelope sealed to the recipient: what goes on the wire. */
  envelope: Uint8Array
  /** The same message sealed to the sender, so `outbox` can show it without plaintext at rest. */
  selfCopy: Uint8Array
  attempts: number
  lastError?: string
  /** Set when the recipient refused it for good (bad signature, wrong recipient): not retried. */
  failed?: boolean
}

export interface DirectMessageStoreInit {
  /** Seen records kept per sender (newest first). */
  seenPerSender: number
  /** Seen records kept in all. */
  seenCap: number
}

const pad = (n: number, width: number) => String(n).padStart(width, '0')

export class DirectMessageStore {
  readonly #ds: Datastore
  readonly seen: SeenRecords
  /** Orders messages stored within the same millisecond (a flush delivers many at once). */
  #arrivals = 0

  constructor(datastore: Datastore, init: DirectMessageStoreInit) {
    this.#ds = datastore
    this.seen = new SeenRecords(datastore, init)
  }

  /** Store a received message and its seen record together, then keep the seen records bounded. */
  async addToInbox(entry: InboxEntry): Promise<void> {
    const batch = this.#ds.batch()
    const arrival = pad(this.#arrivals++ % 1_000_000, 6)
    batch.put(new Key(`${DM_ROOT}/inbox/${pad(entry.receivedAt, 15)}-${arrival}-${entry.id}`), cbor.encode(entry))
    batch.put(this.seen.key(entry.from, entry.id, entry.receivedAt), new Uint8Array(0))
    await batch.commit()
    await this.seen.added(entry.from)
  }

  /** Inbox entries, oldest first. */
  async inbox(): Promise<InboxEntry[]> {
    const out: InboxEntry[] = []
    for await (const { value } of this.#ds.query({ prefix: `${DM_ROOT}/inbox/` }))
      out.push(cbor.decode(value) as InboxEntry)
    return out
  }

  async inboxCount(): Promise<number> {
    let n = 0
    for await (const _ of this.#ds.queryKeys({ prefix: `${DM_ROOT}/inbox/` })) n++
    return n
  }

  /** Delete inbox entries by ID (all when `ids` is undefined); returns how many went. */
  async deleteFromInbox(ids?: Set<string>): Promise<number> {
    const batch = this.#ds.batch()
    let n = 0
    for await (const key of this.#ds.queryKeys({ prefix: `${DM_ROOT}/inbox/` })) {
      const id = key.toString().split('-').pop() as string
      if (ids === undefined || ids.has(id)) {
        batch.delete(key)
        n++
      }
    }
    await batch.commit()
    return n
  }

  /** The last sequence number used towards `to` (0 before the first message). */
  async lastSeq(to: string): Promise<number> {
    const key = this.#seqKey(to)
    return (await this.#ds.has(key)) ? (cbor.decode(await this.#ds.get(key)) as number) : 0
  }

  /**
   * Write a new outbox entry and advance the recipient's sequence number to its `seq`, in one
   * batch. The caller allocates `seq` under the recipient's lock (DirectMessageSender).
   */
  async enqueue(entry: OutboxEntry): Promise<void> {
    const batch = this.#ds.batch()
    batch.put(this.#seqKey(entry.to), cbor.encode(entry.seq))
    batch.put(this.#outboxKey(entry.to, entry.seq), cbor.encode(stripUndefined(entry)))
    await batch.commit()
  }

  /** Update an entry already in the outbox (attempts, last error, failed). */
  async putOutbox(entry: OutboxEntry): Promise<void> {
    await this.#ds.put(this.#outboxKey(entry.to, entry.seq), cbor.encode(stripUndefined(entry)))
  }

  async deleteOutbox(to: string, seq: number): Promise<void> {
    await this.#ds.delete(this.#outboxKey(to, seq))
  }

  /** Outbox entries in (recipient, sequence) order; one recipient when `to` is given. */
  async outbox(to?: string): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = []
    const prefix = to === undefined ? `${DM_ROOT}/outbox/` : `${DM_ROOT}/outbox/${to}/`
    for await (const { value } of this.#ds.query({ prefix })) out.push(cbor.decode(value) as OutboxEntry)
    return out
  }

  #seqKey(to: string): Key {
    return new Key(`${DM_ROOT}/seq/${to}`)
  }

  #outboxKey(to: string, seq: number): Key {
    return new Key(`${DM_ROOT}/outbox/${to}/${pad(seq, 12)}`)
  }
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}
