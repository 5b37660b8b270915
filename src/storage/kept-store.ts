/**
 * What a keeper keeps for other identities, on disk so that it survives restarts: one record per
 * (identity, root) under `/lateral/storage/kept/<identity>/<cid>`, and one pin marker per root
 * under `/lateral/storage/pins/<cid>` saying whether the node had pinned that root itself before
 * storage did (holds.ts). DAG-CBOR values. Read whole at start; bounded by the keeper's caps.
 */
import * as cbor from '@ipld/dag-cbor'
import { Key } from 'interface-datastore'
import type { Datastore } from '../store/datastore.ts'

/** A copy this node keeps for another identity. */
export interface KeptCopy {
  /** The identity it is kept for. */
  subject: string
  cid: string
  /** Bytes of the DAG as fetched (what counts against the quota). */
  size: number
  /** When it was first kept, ms since epoch. */
  since: number
  /** The device that asked. */
  from: string
  /** CID of the grant it is kept under (the latest one that covered it). */
  grant: string
  /** When that grant expires, ms since epoch; the copy goes a grace period after. */
  grantExpiresAt: number
}

/** Whether the node had pinned a root itself before storage held it (then storage never unpins it). */
export interface PinMarker {
  nodePinned: boolean
}

const KEPT = '/lateral/storage/kept/'
const PINS = '/lateral/storage/pins/'

export class KeptStore {
  readonly #ds: Datastore

  constructor(datastore: Datastore) {
    this.#ds = datastore
  }

  async load(): Promise<KeptCopy[]> {
    const out: KeptCopy[] = []
    for await (const { value } of this.#ds.query({ prefix: KEPT })) out.push(cbor.decode(value) as KeptCopy)
    return out
  }

  async save(copy: KeptCopy): Promise<void> {
    await this.#ds.put(keptKey(copy.subject, copy.cid), cbor.encode(copy))
  }

  async delete(subject: string, cid: string): Promise<void> {
    await this.#ds.delete(keptKey(subject, cid))
  }

  async marker(cid: string): Promise<PinMarker | undefined> {
    const key = new Key(`${PINS}${cid}`)
    return (await this.#ds.has(key)) ? (cbor.decode(await this.#ds.get(key)) as PinMarker) : undefined
  }

  async setMarker(cid: string, marker: PinMarker): Promise<void> {
    await this.#ds.put(new Key(`${PINS}${cid}`), cbor.encode(marker))
  }

  async deleteMarker(cid: string): Promise<void> {
    await this.#ds.delete(new Key(`${PINS}${cid}`))
  }
}

function keptKey(subject: string, cid: string): Key {
  return new Key(`${KEPT}${subject}/${cid}`)
}
