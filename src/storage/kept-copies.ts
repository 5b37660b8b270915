/**
 * The copies this node keeps for other identities: in memory for quota sums, on disk
 * (kept-store.ts) for restarts, pinned through holds.ts. Adding and removing are the only ways a
 * copy comes and goes, so the pins and the `storage:kept` / `storage:dropped` events follow.
 * Callers serialise changes (the keeper's Serial).
 */
import type { Logger } from '../core/logger.ts'
import type { StorageContent } from './content-port.ts'
import { Holds } from './holds.ts'
import type { KeptCopy, KeptStore } from './kept-store.ts'

/** Why a copy stopped being kept. */
export type DropReason = 'requested' | 'revoked' | 'expired' | 'over-quota'

export interface KeptCopiesComponents {
  store: KeptStore
  content: StorageContent
  log: Logger
  emit(type: 'storage:kept', detail: KeptCopy): void
  emit(type: 'storage:dropped', detail: KeptCopy & { reason: DropReason }): void
}

export class KeptCopies {
  readonly #c: KeptCopiesComponents
  readonly #copies = new Map<string, KeptCopy>()
  readonly #holders = new Map<string, number>()
  readonly holds: Holds

  constructor(components: KeptCopiesComponents) {
    this.#c = components
    this.holds = new Holds({
      content: components.content,
      store: components.store,
      holders: (cid) => this.#holders.get(cid) ?? 0,
      log: components.log,
    })
  }

  async load(): Promise<void> {
    for (const copy of await this.#c.store.load()) this.#remember(copy)
  }

  get(subject: string, cid: string): KeptCopy | undefined {
    return this.#copies.get(keyOf(subject, cid))
  }

  all(): KeptCopy[] {
    return [...this.#copies.values()]
  }

  /** Copies by the identity they are kept for. */
  bySubject(): Map<string, KeptCopy[]> {
    const out = new Map<string, KeptCopy[]>()
    for (const copy of this.#copies.values()) {
      const list = out.get(copy.subject) ?? []
      list.push(copy)
      out.set(copy.subject, list)
    }
    return out
  }

  /** Bytes and copies kept for one identity. */
  usage(subject: string): { bytes: number; copies: number } {
    let bytes = 0
    let copies = 0
    for (const copy of this.#copies.values()) {
      if (copy.subject !== subject) continue
      bytes += copy.size
      copies++
    }
    return { bytes, copies }
  }

  /** Bytes kept for every identity together. */
  totalBytes(): number {
    let bytes = 0
    for (const copy of this.#copies.values()) bytes += copy.size
    return bytes
  }

  /** Roots kept for anyone (each once). */
  roots(): string[] {
    return [...this.#holders.keys()]
  }

  /** Keep a copy whose blocks are all here: recorded, then pinned if it is the root's first holder. */
  async add(copy: KeptCopy): Promise<void> {
    await this.#c.store.save(copy)
    this.#remember(copy)
    await this.holds.hold(copy.cid)
    this.#c.emit('storage:kept', copy)
  }

  /** Record a copy's new grant (a renewal or another grant that covers it). */
  async update(copy: KeptCopy): Promise<void> {
    await this.#c.store.save(copy)
    this.#copies.set(keyOf(copy.subject, copy.cid), copy)
  }

  /** Stop keeping a copy: its record goes, and its pin when no one else holds the root. */
  async remove(copy: KeptCopy, reason: DropReason): Promise<void> {
    const key = keyOf(copy.subject, copy.cid)
    if (!this.#copies.has(key)) return
    await this.#c.store.delete(copy.subject, copy.cid)
    this.#copies.delete(key)
    const n = (this.#holders.get(copy.cid) ?? 1) - 1
    if (n > 0) this.#holders.set(copy.cid, n)
    else this.#holders.delete(copy.cid)
    await this.holds.release(copy.cid)
    this.#c.log.info('stopped keeping a copy', { subject: copy.subject, cid: copy.cid, reason })
    this.#c.emit('storage:dropped', { ...copy, reason })
  }

  #remember(copy: KeptCopy): void {
    const key = keyOf(copy.subject, copy.cid)
    if (!this.#copies.has(key)) this.#holders.set(copy.cid, (this.#holders.get(copy.cid) ?? 0) + 1)
    this.#copies.set(key, copy)
  }
}

function keyOf(subject: string, cid: string): string {
  return `${subject}/${cid}`
}
