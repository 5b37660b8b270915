/**
 * Where a mailbox keeps what it holds for others, in the datastore under `/lateral/mailbox/`:
 *
 * | key | value |
 * |---|---|
 * | `meta/<identity>/<device>/<order>` | a HeldMessage: sender, size, hash, when deposited and when it expires |
 * | `mail/<identity>/<device>/<order>` | the envelope as deposited: sealed to the device, never opened here |
 * | `grant/<identity>` | the last `/msg/deposit` grant seen valid (or when it was first seen lapsed) |
 *
 * `<order>` is `<depositedAt:15>-<counter:6>`: deposit order per device. The small `meta` records
 * are what the node reads at start (its index); envelopes are read only to hand them over. A
 * message's two records are written and deleted in one batch.
 */
import * as cbor from '@ipld/dag-cbor'
import { Key } from 'interface-datastore'
import type { Datastore } from '../store/datastore.ts'

const ROOT = '/lateral/mailbox'

export interface HeldMessage {
  identity: string
  device: string
  /** Deposit order within the device's mail (and the key's last part). */
  order: string
  /** Peer that deposited it (authenticated by its connection), for the per-sender share. */
  sender: string
  /** Envelope size, bytes. */
  size: number
  /** SHA-256 of the envelope, hex: the same envelope deposited twice is held once. */
  hash: string
  depositedAt: number
  expiresAt: number
}

/** The grant a mailbox last saw valid for an identity: what decides when its mail lapses. */
export interface GrantRecord {
  /** CID of the grant, when one was seen. */
  cid?: string
  /** When the grant ends (or, with no grant seen, when the mail was first found without one). */
  expiresAt: number
}

const pad = (n: number, width: number) => String(n).padStart(width, '0')

export class MailStore {
  readonly #ds: Datastore
  #counter = 0

  constructor(datastore: Datastore) {
    this.#ds = datastore
  }

  /** A new order key: deposit time, then a counter for deposits within the same millisecond. */
  nextOrder(now: number): string {
    return `${pad(now, 15)}-${pad(this.#counter++ % 1_000_000, 6)}`
  }

  /** Every held message's metadata, in (identity, device, order) order. */
  async load(): Promise<HeldMessage[]> {
    const out: HeldMessage[] = []
    for await (const { value } of this.#ds.query({ prefix: `${ROOT}/meta/` })) {
      out.push(cbor.decode(value) as HeldMessage)
    }
    return out
  }

  async put(meta: HeldMessage, envelope: Uint8Array): Promise<void> {
    const batch = this.#ds.batch()
    batch.put(this.#key('meta', meta), cbor.encode(meta))
    batch.put(this.#key('mail', meta), envelope)
    await batch.commit()
  }

  /** The envelope of a held message, or undefined when it is gone. */
  async envelope(meta: HeldMessage): Promise<Uint8Array | undefined> {
    try {
      return await this.#ds.get(this.#key('mail', meta))
    } catch {
      return undefined
    }
  }

  async delete(metas: readonly HeldMessage[]): Promise<void> {
    if (metas.length === 0) return
    const batch = this.#ds.batch()
    for (const meta of metas) {
      batch.delete(this.#key('meta', meta))
      batch.delete(this.#key('mail', meta))
    }
    await batch.commit()
  }

  async grants(): Promise<Map<string, GrantRecord>> {
    const out = new Map<string, GrantRecord>()
    for await (const { key, value } of this.#ds.query({ prefix: `${ROOT}/grant/` })) {
      out.set(key.baseNamespace(), cbor.decode(value) as GrantRecord)
    }
    return out
  }

  async putGrant(identity: string, record: GrantRecord): Promise<void> {
    const clean = record.cid === undefined ? { expiresAt: record.expiresAt } : record
    await this.#ds.put(new Key(`${ROOT}/grant/${identity}`), cbor.encode(clean))
  }

  async deleteGrant(identity: string): Promise<void> {
    await this.#ds.delete(new Key(`${ROOT}/grant/${identity}`))
  }

  #key(kind: 'meta' | 'mail', m: HeldMessage): Key {
    return new Key(`${ROOT}/${kind}/${m.identity}/${m.device}/${m.order}`)
  }
}
