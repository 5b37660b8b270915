/**
 * What this node measured it gave to and got from each peer, per kind of service: cumulative
 * bytes, as the services report them (core/contribution.ts). Receipts are drafted from these and
 * a counterparty's proposal is checked against them. Kept in memory, written to the datastore
 * after each receipt and every flush, and never below the totals of a receipt already signed (a
 * count lost in a crash must not make this node refuse its peers' honest receipts forever).
 *
 * ```
 * /ledger/measured/<peer>/<kind>   { sent, received, held }
 * ```
 */
import * as cbor from '@ipld/dag-cbor'
import { Key } from 'interface-datastore'
import { SERVICE_KINDS, type ServiceKind } from '../core/contribution.ts'
import type { Datastore } from '../store/datastore.ts'

const ROOT = '/ledger/measured'

export interface Measured {
  /** Bytes this node gave the peer. */
  sent: number
  /** Bytes this node received from the peer. */
  received: number
  /** Bytes this node holds for the peer now. */
  held: number
}

type Listener = () => void

export class Counters {
  readonly #ds: Datastore
  readonly #byPeer = new Map<string, Map<ServiceKind, Measured>>()
  readonly #dirty = new Set<string>()
  readonly #listeners = new Map<string, Set<Listener>>()

  constructor(datastore: Datastore) {
    this.#ds = datastore
  }

  async load(): Promise<void> {
    for await (const { key, value } of this.#ds.query({ prefix: `${ROOT}/` })) {
      const [peer, kind] = key
        .toString()
        .slice(ROOT.length + 1)
        .split('/') as [string, string]
      if (!(SERVICE_KINDS as readonly string[]).includes(kind)) continue
      this.#kindsOf(peer).set(kind as ServiceKind, cbor.decode(value) as Measured)
    }
  }

  get(peer: string, kind: ServiceKind): Measured {
    return { ...(this.#byPeer.get(peer)?.get(kind) ?? { sent: 0, received: 0, held: 0 }) }
  }

  /** Every peer and kind with something measured. */
  *entries(): Generator<{ peer: string; kind: ServiceKind; measured: Measured }> {
    for (const [peer, kinds] of this.#byPeer) for (const [kind, m] of kinds) yield { peer, kind, measured: { ...m } }
  }

  add(peer: string, kind: ServiceKind, field: 'sent' | 'received', bytes: number): void {
    if (!(bytes > 0)) return
    const m = this.#measured(peer, kind)
    m[field] += bytes
    this.#changed(peer, kind)
  }

  setHeld(peer: string, kind: ServiceKind, bytes: number): void {
    const m = this.#measured(peer, kind)
    m.held = Math.max(0, bytes)
    this.#changed(peer, kind)
  }

  /** After a receipt: the counts are at least what it says. */
  raiseTo(peer: string, kind: ServiceKind, sent: number, received: number): void {
    const m = this.#measured(peer, kind)
    if (m.sent >= sent && m.received >= received) return
    m.sent = Math.max(m.sent, sent)
    m.received = Math.max(m.received, received)
    this.#changed(peer, kind)
  }

  /** Wait until `ready()` holds (checked on each change of this peer's counts), at most `ms`. */
  async waitUntil(peer: string, ready: () => boolean, ms: number, signal?: AbortSignal): Promise<boolean> {
    if (ready()) return true
    return new Promise((resolve) => {
      const listeners = this.#listeners.get(peer) ?? new Set<Listener>()
      this.#listeners.set(peer, listeners)
      const done = (ok: boolean) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        listeners.delete(check)
        if (listeners.size === 0) this.#listeners.delete(peer)
        resolve(ok)
      }
      const check = () => {
        if (ready()) done(true)
      }
      const onAbort = () => done(false)
      const timer = setTimeout(() => done(ready()), ms)
      signal?.addEventListener('abort', onAbort, { once: true })
      listeners.add(check)
    })
  }

  /** Write the counts that changed since the last flush. */
  async flush(): Promise<void> {
    if (this.#dirty.size === 0) return
    const batch = this.#ds.batch()
    for (const id of this.#dirty) {
      const [peer, kind] = id.split('/') as [string, ServiceKind]
      const m = this.#byPeer.get(peer)?.get(kind)
      if (m !== undefined) batch.put(new Key(`${ROOT}/${id}`), cbor.encode(m))
    }
    this.#dirty.clear()
    await batch.commit()
  }

  #kindsOf(peer: string): Map<ServiceKind, Measured> {
    let kinds = this.#byPeer.get(peer)
    if (kinds === undefined) {
      kinds = new Map()
      this.#byPeer.set(peer, kinds)
    }
    return kinds
  }

  #measured(peer: string, kind: ServiceKind): Measured {
    const kinds = this.#kindsOf(peer)
    let m = kinds.get(kind)
    if (m === undefined) {
      m = { sent: 0, received: 0, held: 0 }
      kinds.set(kind, m)
    }
    return m
  }

  #changed(peer: string, kind: ServiceKind): void {
    this.#dirty.add(`${peer}/${kind}`)
    const listeners = this.#listeners.get(peer)
    if (listeners !== undefined) for (const l of [...listeners]) l()
  }
}
