/**
 * Seen records: the IDs of stored direct messages, so that a retransmission (the sender never
 * got the ack) is acknowledged as a duplicate and not stored twice. Bounded two ways:
 *
 * - per sender, the newest `seenPerSender` records (default 64);
 * - in all, `seenCap` records (default 100 000); past it the oldest (by receipt) go first, down
 *   to 90 % of the cap, so the cost of a prune is spread over many messages.
 *
 * Why a short window per sender is enough: a sender delivers its outbox for one recipient in
 * order, one flush at a time, and sends message n+1 only after n was acknowledged (as stored,
 * duplicate, or refused for good). So a retransmission is always of the last message this node
 * stored from that sender, or one refused earlier (never stored, never seen). The window of 64
 * also covers a sender that replays part of an old outbox (a restored backup). What the bounds
 * give up: a sender whose seen records were pushed out by `seenCap` newer ones from others, and
 * who then retransmits its last message (it stayed offline since the lost ack), has that message
 * stored a second time. Seen records are not the inbox: deleting messages does not forget them.
 *
 * Key: `/lateral/dm/seen/<from>/<receivedAt:15>-<id>` (empty value). Records written before
 * the bound (`seen/<from>/<id>`) count as the oldest.
 */
import { Key } from 'interface-datastore'
import type { Datastore } from '../store/datastore.ts'

export const DM_ROOT = '/lateral/dm'
const PREFIX = `${DM_ROOT}/seen/`
const pad = (n: number, width: number) => String(n).padStart(width, '0')

export interface SeenRecordsInit {
  seenPerSender: number
  seenCap: number
}

export class SeenRecords {
  readonly #ds: Datastore
  readonly #init: SeenRecordsInit
  #count: number | undefined
  /** Prunes run one at a time (they count and delete). */
  #pruning: Promise<void> = Promise.resolve()

  constructor(datastore: Datastore, init: SeenRecordsInit) {
    this.#ds = datastore
    this.#init = init
  }

  key(from: string, id: string, receivedAt: number): Key {
    return new Key(`${PREFIX}${from}/${pad(receivedAt, 15)}-${id}`)
  }

  /** Whether a message `id` from `from` was stored (reads at most the sender's window). */
  async has(from: string, id: string): Promise<boolean> {
    for await (const key of this.#ds.queryKeys({ prefix: `${PREFIX}${from}/` })) {
      const name = key.baseNamespace()
      if (name === id || name.endsWith(`-${id}`)) return true
    }
    return false
  }

  /** How many seen records there are. */
  async count(): Promise<number> {
    return this.#count ?? (await this.#list()).length
  }

  /** Called after a record of `from` was written: keep both bounds. */
  added(from: string): Promise<void> {
    const run = this.#pruning.then(async () => {
      // Counted once (the new record included), then kept up to date.
      const total = this.#count === undefined ? (await this.#list()).length : this.#count + 1
      this.#count = total - (await this.#pruneSender(from))
      if (this.#count > this.#init.seenCap) {
        this.#count -= await this.#pruneOldest(this.#count - Math.floor(this.#init.seenCap * 0.9))
      }
    })
    this.#pruning = run.catch(() => {
      this.#count = undefined // recounted on the next call
    })
    return run
  }

  async #pruneSender(from: string): Promise<number> {
    const records = await this.#list(`${PREFIX}${from}/`)
    if (records.length <= this.#init.seenPerSender) return 0
    records.sort(byAge)
    return this.#delete(records.slice(0, records.length - this.#init.seenPerSender))
  }

  async #pruneOldest(n: number): Promise<number> {
    const records = await this.#list()
    records.sort(byAge)
    return this.#delete(records.slice(0, n))
  }

  async #delete(records: SeenRecord[]): Promise<number> {
    const batch = this.#ds.batch()
    for (const r of records) batch.delete(r.key)
    await batch.commit()
    return records.length
  }

  async #list(prefix = PREFIX): Promise<SeenRecord[]> {
    const out: SeenRecord[] = []
    for await (const key of this.#ds.queryKeys({ prefix })) {
      const name = key.baseNamespace()
      const dash = name.indexOf('-')
      const receivedAt = dash === 15 ? Number(name.slice(0, 15)) : 0
      out.push({ key, receivedAt: Number.isFinite(receivedAt) ? receivedAt : 0, name })
    }
    return out
  }
}

interface SeenRecord {
  key: Key
  receivedAt: number
  name: string
}

/** Oldest first; ties by name, so the order is the same on every run. */
function byAge(a: SeenRecord, b: SeenRecord): number {
  return a.receivedAt - b.receivedAt || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}
