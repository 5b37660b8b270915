/**
 * Pins with holders: content's pins are one per root, while a root may be kept for several
 * identities and pinned by the node's own user too. Storage pins a root when its first holder
 * comes and unpins it when its last goes, and never unpins a root the node had pinned itself
 * before storage held it (a marker per root, kept-store.ts, remembers which). So no one drop
 * takes away what another identity, or the node's own user, still keeps.
 *
 * Callers serialise calls for one root (the keeper's lock).
 */
import type { Logger } from '../core/logger.ts'
import type { StorageContent } from './content-port.ts'
import type { KeptStore } from './kept-store.ts'

export interface HoldsComponents {
  content: StorageContent
  store: KeptStore
  /** How many kept copies name this root now (records already added or removed). */
  holders(cid: string): number
  log: Logger
}

export class Holds {
  readonly #c: HoldsComponents

  constructor(components: HoldsComponents) {
    this.#c = components
  }

  /** A copy of `cid` was recorded: pin it if it is the first holder (its blocks are all here). */
  async hold(cid: string): Promise<void> {
    if ((await this.#c.store.marker(cid)) !== undefined) return
    const nodePinned = (await this.#c.content.pins()).some((p) => p.cid === cid)
    await this.#c.store.setMarker(cid, { nodePinned })
    if (!nodePinned) await this.#c.content.pin(cid)
  }

  /** A copy of `cid` was removed: when none is left, unpin it unless the node pinned it itself. Returns whether it was unpinned. */
  async release(cid: string): Promise<boolean> {
    if (this.#c.holders(cid) > 0) return false
    const marker = await this.#c.store.marker(cid)
    await this.#c.store.deleteMarker(cid)
    if (marker?.nodePinned === true) return false
    try {
      await this.#c.content.unpin(cid)
    } catch (err) {
      // Already unpinned by hand: nothing else to release.
      this.#c.log.debug('a kept root was no longer pinned', { cid, error: (err as Error).message })
    }
    return true
  }

  /**
   * Roots still held whose pin is gone (someone ran `lateral unpin` on a root kept for others):
   * pin them again, fetching what gc already took. Returns the roots pinned again.
   */
  async repair(held: readonly string[], options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string[]> {
    if (held.length === 0) return []
    const pinned = new Set((await this.#c.content.pins()).map((p) => p.cid))
    const repaired: string[] = []
    for (const cid of held) {
      if (pinned.has(cid) || options.signal?.aborted === true) continue
      try {
        await this.#c.content.pin(cid, options)
        await this.#c.store.setMarker(cid, { nodePinned: false })
        repaired.push(cid)
        this.#c.log.warn('a root kept for others had lost its pin: pinned again', { cid })
      } catch (err) {
        this.#c.log.warn('a root kept for others lost its pin and could not be pinned again', {
          cid,
          error: (err as Error).message,
        })
      }
    }
    return repaired
  }
}
