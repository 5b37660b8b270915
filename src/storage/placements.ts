/**
 * Copies this node's person placed with keepers, as this device knows them: one record per
 * (keeper, root) under `/lateral/storage/placed/<peer>/<cid>` (DAG-CBOR), with what is left of
 * its precomputed challenges and the answers to the last checks.
 */
import * as cbor from '@ipld/dag-cbor'
import { Key } from 'interface-datastore'
import type { Datastore } from '../store/datastore.ts'
import type { PooledChallenge } from './challenge.ts'

/** How one storage challenge went. */
export interface CheckResult {
  /** When it was asked, ms since epoch. */
  at: number
  /** proven: the answer is right; failed: wrong, refused or late; unreachable: the keeper could not be asked. */
  status: 'proven' | 'failed' | 'unreachable'
  /** range: a precomputed digest over a byte range; block: the blocks from the root to a random block. */
  kind: 'range' | 'block'
  reason?: string
  /** From sending the request to reading the answer, ms. */
  rttMs?: number
}

export interface Placement {
  cid: string
  /** The keeper's peer ID. */
  peer: string
  /** Bytes the keeper holds (the DAG's total). */
  size: number
  /** When the keeper first took it, ms since epoch. */
  since: number
  /** Challenges not yet used, each with its answer. */
  pool: PooledChallenge[]
  /** The last answers, oldest first. */
  checks: CheckResult[]
  /** When a check last proved it, ms since epoch. */
  lastProvenAt?: number
}

const PREFIX = '/lateral/storage/placed/'

export class PlacementStore {
  readonly #ds: Datastore

  constructor(datastore: Datastore) {
    this.#ds = datastore
  }

  async load(): Promise<Placement[]> {
    const out: Placement[] = []
    for await (const { value } of this.#ds.query({ prefix: PREFIX })) out.push(cbor.decode(value) as Placement)
    return out
  }

  async save(placement: Placement): Promise<void> {
    await this.#ds.put(keyOf(placement.peer, placement.cid), cbor.encode(placement))
  }

  async delete(peer: string, cid: string): Promise<void> {
    await this.#ds.delete(keyOf(peer, cid))
  }
}

function keyOf(peer: string, cid: string): Key {
  return new Key(`${PREFIX}${peer}/${cid}`)
}
