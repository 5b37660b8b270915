/**
 * Where direct messages live in the datastore (LevelDB), under `/lateral/dm/`:
 *
 * | key | value |
 * |---|---|
 * | `inbox/<receivedAt:15>-<id>` | the opened message (recipient's store only) |
 * | `outbox/<to>/<seq:12>` | the sealed envelope for the recipient, a sealed copy for the sender, delivery state |
 * | `seq/<to>` | last sequence number used towards a recipient |
 * | `seen/<from>/<id>` | received IDs, so a retried message is stored once |
 *
 * No plaintext is written anywhere but the recipient's inbox.
 */
import * as cbor from '@ipld/dag-cbor'
import { Key } from 'interface-datastore'
import type { Datastore } from '../store/datastore.ts'
import type { DirectMessage } from './dm-envelope.ts'

export interface InboxEntry extends DirectMessage {
  receivedAt: number
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

const ROOT = '/lateral/dm'
const pad = (n: number, width: number) => String(n).padStart(width, '0')

export class DirectMessageStore {
  readonly #ds: Datastore

  constructor(datastore: Datastore) {
    this.#ds = datastore
  }

  async addToInbox(entry: InboxEntry): Promise<void> {
    const batch = this.#ds.batch()
    batch.put(new Key(`${ROOT}/inbox/${pad(entry.receivedAt, 15)}-${entry.id}`), cbor.encode(entry))
    batch.put(new Key(`${ROOT}/seen/${entry.from}/${entry.id}`), cbor.encode(entry.receivedAt))
    await batch.commit()
  }

  async seen(from: string, id: string): Promise<boolean> {
    return this.#ds.has(new Key(`${ROOT}/seen/${from}/${id}`))
  }

  /** Inbox entries, oldest first. */
  async inbox(): Promise<InboxEntry[]> {
    const out: InboxEntry[] = []
    for await (const { value } of this.#ds.query({ prefix: `${ROOT}/inbox/` }))
      out.push(cbor.decode(value) as InboxEntry)
    return out
  }

  async inboxCount(): Promise<number> {
    let n = 0
    for await (const _ of this.#ds.queryKeys({ prefix: `${ROOT}/inbox/` })) n++
    return n
  }

  /** Delete inbox entries by ID (all when `ids` is undefined); returns how many went. */
  async deleteFromInbox(ids?: Set<string>): Promise<number> {
    const batch = this.#ds.batch()
    let n = 0
    for await (const key of this.#ds.queryKeys({ prefix: `${ROOT}/inbox/` })) {
      const id = key.toString().split('-').pop() as string
      if (ids === undefined || ids.has(id)) {
        batch.delete(key)
        n++
      }
    }
    await batch.commit()
    return n
  }

  async nextSeq(to: string): Promise<number> {
    const key = new Key(`${ROOT}/seq/${to}`)
    const last = (await this.#ds.has(key)) ? (cbor.decode(await this.#ds.get(key)) as number) : 0
    await this.#ds.put(key, cbor.encode(last + 1))
    return last + 1
  }

  async putOutbox(entry: OutboxEntry): Promise<void> {
    await this.#ds.put(this.#outboxKey(entry.to, entry.seq), cbor.encode(stripUndefined(entry)))
  }

  async deleteOutbox(to: string, seq: number): Promise<void> {
    await this.#ds.delete(this.#outboxKey(to, seq))
  }

  /** Outbox entries in (recipient, sequence) order; one recipient when `to` is given. */
  async outbox(to?: string): Promise<OutboxEntry[]> {
    const out: OutboxEntry[] = []
    const prefix = to === undefined ? `${ROOT}/outbox/` : `${ROOT}/outbox/${to}/`
    for await (const { value } of this.#ds.query({ prefix })) out.push(cbor.decode(value) as OutboxEntry)
    return out
  }

  #outboxKey(to: string, seq: number): Key {
    return new Key(`${ROOT}/outbox/${to}/${pad(seq, 12)}`)
  }
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
}
