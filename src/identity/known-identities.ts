/**
 * Other people's identity logs this node keeps: contacts', and those of devices it meets (they
 * announce their heads). Every log is verified entry by entry before use; each is bounded, and
 * so is their number (the least recently used non-contact goes first). Answers the directory
 * questions other services ask: which identity a device belongs to, and whether it was removed.
 */
import type { Revocation } from '../core/identities.ts'
import type { Logger } from '../core/logger.ts'
import { type IdentityLog, type IdentityLogInit, type IdentityLogStore, verifyLog } from './log/index.ts'

export interface KnownIdentitiesInit extends IdentityLogInit {
  /** Logs kept at most. */
  max: number
}

export class KnownIdentities {
  readonly #init: KnownIdentitiesInit
  readonly #store: IdentityLogStore
  readonly #log: Logger
  /** By identity ID, least recently used first. */
  readonly #logs = new Map<string, IdentityLog>()
  /** Identities never evicted (contacts, this node's own). */
  readonly #pinned = new Set<string>()

  constructor(init: KnownIdentitiesInit, store: IdentityLogStore, log: Logger) {
    this.#init = init
    this.#store = store
    this.#log = log
  }

  async load(): Promise<void> {
    for (const id of await this.#store.identities()) {
      try {
        const log = await this.#store.load(id, this.#init)
        if (log !== undefined) this.#logs.set(id, log)
      } catch (err) {
        this.#log.warn('a stored identity log was refused', { identity: id, error: (err as Error).message })
      }
    }
  }

  pin(id: string): void {
    this.#pinned.add(id)
  }

  /** Whether this node wants the identity's log whoever announces it (a contact, its own). */
  isPinned(id: string): boolean {
    return this.#pinned.has(id)
  }

  get(id: string): IdentityLog | undefined {
    const log = this.#logs.get(id)
    if (log !== undefined) {
      this.#logs.delete(id)
      this.#logs.set(id, log)
    }
    return log
  }

  /** Whether any of `heads` is missing from the kept log of `id` (or the log is not kept). */
  lacks(id: string, heads: string[]): boolean {
    const log = this.#logs.get(id)
    return log === undefined || heads.some((h) => log.entry(h) === undefined)
  }

  /**
   * Take entries received for `id` (verified here): a new log, or more entries for a kept one.
   * Returns whether the log's state changed. Invalid entries are refused with the reason.
   */
  async merge(id: string, entries: Uint8Array[]): Promise<{ log: IdentityLog; changed: boolean }> {
    let log = this.#logs.get(id)
    let changed = false
    if (log === undefined) {
      log = verifyLog(id, entries, this.#init)
      changed = true
    } else {
      const before = log.heads().join()
      for (const bytes of entries) log.add(bytes)
      changed = log.heads().join() !== before
    }
    this.#logs.delete(id)
    this.#logs.set(id, log)
    if (changed) await this.#store.save(log)
    await this.#evict()
    return { log, changed }
  }

  identityOf(peerId: string): string | undefined {
    for (const [id, log] of this.#logs) if (log.isMember(peerId) || log.revokedAt(peerId) !== undefined) return id
    return undefined
  }

  revocation(peerId: string): Revocation | undefined {
    for (const [id, log] of this.#logs) {
      const r = log.revokedAt(peerId)
      if (r !== undefined) return { identity: id, at: r.at, reason: r.lost ? 'lost' : 'removed' }
    }
    return undefined
  }

  ids(): string[] {
    return [...this.#logs.keys()]
  }

  async forget(id: string): Promise<void> {
    this.#logs.delete(id)
    this.#pinned.delete(id)
    await this.#store.delete(id)
  }

  async #evict(): Promise<void> {
    for (const id of [...this.#logs.keys()]) {
      if (this.#logs.size <= this.#init.max) return
      if (this.#pinned.has(id)) continue
      await this.forget(id)
    }
  }
}
