/**
 * Pins: the roots this node keeps. One datastore record per root (`/lateral/pins/<cid>`,
 * DAG-CBOR `{ cid, addedAt }`); gc keeps every stored block under a pinned root.
 */
import * as cbor from '@ipld/dag-cbor'
import { Key } from 'interface-datastore'
import type { CID } from 'multiformats/cid'
import { NotFoundError } from '../core/errors.ts'
import type { Datastore } from '../store/index.ts'
import { parseCid } from './dag.ts'

export interface Pin {
  cid: string
  addedAt: number
}

const PREFIX = '/lateral/pins/'

export class PinStore {
  readonly #datastore: Datastore

  constructor(datastore: Datastore) {
    this.#datastore = datastore
  }

  /** Pin a root (kept as it was if already pinned). */
  async save(root: CID): Promise<Pin> {
    const key = keyOf(root)
    if (await this.#datastore.has(key)) return cbor.decode(await this.#datastore.get(key)) as Pin
    const pin = { cid: root.toString(), addedAt: Date.now() }
    await this.#datastore.put(key, cbor.encode(pin))
    return pin
  }

  async remove(cid: string): Promise<void> {
    const key = keyOf(parseCid(cid))
    if (!(await this.#datastore.has(key))) throw new NotFoundError(`${cid} is not pinned`)
    await this.#datastore.delete(key)
  }

  /** Every pin, oldest first. */
  async list(): Promise<Pin[]> {
    const out: Pin[] = []
    for await (const { value } of this.#datastore.query({ prefix: PREFIX })) out.push(cbor.decode(value) as Pin)
    return out.sort((a, b) => a.addedAt - b.addedAt)
  }

  /** The pinned roots as CIDs. */
  async roots(): Promise<CID[]> {
    return (await this.list()).map((p) => parseCid(p.cid))
  }
}

function keyOf(root: CID): Key {
  return new Key(`${PREFIX}${root.toString()}`)
}
