/**
 * The receipt graph this node has seen: for each pair of devices and kind of service, the
 * largest cumulative counts a complete receipt between them states (receipts are cumulative, so
 * the latest is the largest). The capacity of edge u -> v is what u gave v, all kinds together.
 * Bounded by `maxEdges` (pairs x kinds); the ledger only adds receipts that touch this node or
 * one of its counterparties, the only ones its reputation paths can use.
 *
 * ```
 * /ledger/edges/<u>/<v>/<kind>   [ u gave v, v gave u ]   (u < v)
 * ```
 */
import * as cbor from '@ipld/dag-cbor'
import { Key } from 'interface-datastore'
import { SERVICE_KINDS, type ServiceKind } from '../core/contribution.ts'
import type { Datastore } from '../store/datastore.ts'
import type { Receipt } from './receipt.ts'

const ROOT = '/ledger/edges'

/** What the reputation computation reads: capacities into and out of a device. */
export interface FlowGraph {
  /** Devices that gave `v` something, with how much. */
  inOf(v: string): ReadonlyMap<string, number>
  /** Devices `u` gave something to, with how much. */
  outOf(u: string): ReadonlyMap<string, number>
}

export class ReceiptGraph implements FlowGraph {
  readonly #ds: Datastore | undefined
  readonly #maxEdges: number
  /** "u/v/kind" (u < v) -> [u gave v, v gave u]. */
  readonly #edges = new Map<string, [number, number]>()
  readonly #out = new Map<string, Map<string, number>>()
  readonly #in = new Map<string, Map<string, number>>()
  readonly #dirty = new Set<string>()
  #version = 0

  constructor(datastore: Datastore | undefined, maxEdges: number) {
    this.#ds = datastore
    this.#maxEdges = maxEdges
  }

  async load(): Promise<void> {
    if (this.#ds === undefined) return
    for await (const { key, value } of this.#ds.query({ prefix: `${ROOT}/` })) {
      const [u, v, kind] = key
        .toString()
        .slice(ROOT.length + 1)
        .split('/') as [string, string, string]
      if (!(SERVICE_KINDS as readonly string[]).includes(kind)) continue
      const [uv, vu] = cbor.decode(value) as [number, number]
      this.#set(u, v, kind as ServiceKind, uv, vu)
    }
    this.#dirty.clear()
  }

  /** Changes whenever a capacity changes (the reputation table is computed again then). */
  get version(): number {
    return this.#version
  }

  get size(): number {
    return this.#edges.size
  }

  /** Take a complete receipt. True when a capacity grew. */
  addReceipt(receipt: Receipt): boolean {
    const p = receipt.proposal.payload
    return this.add(p.dev, p.peer, p.kind, p.out, p.in)
  }

  /** `a` gave `b` `ab` and `b` gave `a` `ba` (cumulative, for one kind). True when a capacity grew. */
  add(a: string, b: string, kind: ServiceKind, ab: number, ba: number): boolean {
    const [u, v, uv, vu] = a < b ? [a, b, ab, ba] : [b, a, ba, ab]
    const id = `${u}/${v}/${kind}`
    const old = this.#edges.get(id)
    if (old === undefined && this.#edges.size >= this.#maxEdges) return false
    const next: [number, number] = [Math.max(old?.[0] ?? 0, uv), Math.max(old?.[1] ?? 0, vu)]
    if (old !== undefined && old[0] === next[0] && old[1] === next[1]) return false
    this.#set(u, v, kind, next[0], next[1])
    this.#dirty.add(id)
    return true
  }

  capacity(u: string, v: string): number {
    return this.#out.get(u)?.get(v) ?? 0
  }

  inOf(v: string): ReadonlyMap<string, number> {
    return this.#in.get(v) ?? EMPTY
  }

  outOf(u: string): ReadonlyMap<string, number> {
    return this.#out.get(u) ?? EMPTY
  }

  async flush(): Promise<void> {
    if (this.#ds === undefined || this.#dirty.size === 0) return
    const batch = this.#ds.batch()
    for (const id of this.#dirty) {
      const edge = this.#edges.get(id)
      if (edge !== undefined) batch.put(new Key(`${ROOT}/${id}`), cbor.encode(edge))
    }
    this.#dirty.clear()
    await batch.commit()
  }

  #set(u: string, v: string, kind: ServiceKind, uv: number, vu: number): void {
    const id = `${u}/${v}/${kind}`
    const old = this.#edges.get(id) ?? [0, 0]
    this.#edges.set(id, [uv, vu])
    this.#bump(u, v, uv - old[0])
    this.#bump(v, u, vu - old[1])
    this.#version++
  }

  #bump(from: string, to: string, delta: number): void {
    if (delta === 0) return
    const out = this.#out.get(from) ?? new Map<string, number>()
    const value = (out.get(to) ?? 0) + delta
    out.set(to, value)
    this.#out.set(from, out)
    const into = this.#in.get(to) ?? new Map<string, number>()
    into.set(from, value)
    this.#in.set(to, into)
  }
}

const EMPTY: ReadonlyMap<string, number> = new Map()
