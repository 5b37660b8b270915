/**
 * Local readers waiting for blocks a download session is about to store (a file read while it
 * downloads, a folder listed through a session). Bounded by the readers, never by peers.
 */
import { raceAbort } from '../core/abort.ts'

interface Waiter {
  /** With the block's bytes, or undefined when the session ended without storing it. */
  resolve(bytes: Uint8Array | undefined): void
  reject(err: Error): void
}

export interface Wait {
  /** The block's bytes once stored; undefined if the session ends first; rejects if it fails. */
  promise: Promise<Uint8Array | undefined>
  /** Stop waiting (always call it, in a finally). */
  cancel(): void
}

export class BlockWaiters {
  readonly #waiting = new Map<string, Set<Waiter>>()

  get size(): number {
    let n = 0
    for (const set of this.#waiting.values()) n += set.size
    return n
  }

  /** Wait for the block with this key. Register before looking in the store, so none is missed. */
  wait(key: string, signal?: AbortSignal): Wait {
    let waiter: Waiter = { resolve: () => {}, reject: () => {} }
    const arrived = new Promise<Uint8Array | undefined>((resolve, reject) => {
      waiter = { resolve, reject }
    })
    arrived.catch(() => {}) // the reader may stop waiting before it settles
    const set = this.#waiting.get(key) ?? new Set<Waiter>()
    set.add(waiter)
    this.#waiting.set(key, set)
    return {
      promise: raceAbort(arrived, signal),
      cancel: () => {
        if (set.delete(waiter) && set.size === 0 && this.#waiting.get(key) === set) this.#waiting.delete(key)
      },
    }
  }

  /** Whether a reader waits for the block with this key. */
  waitsFor(key: string): boolean {
    return this.#waiting.has(key)
  }

  /** The block is stored: hand its bytes to whoever waits. */
  stored(key: string, bytes: Uint8Array): void {
    for (const w of this.#waiting.get(key) ?? []) w.resolve(bytes)
  }

  /** The session ended: with `err` every wait rejects, without it every wait reads the store. */
  end(err?: Error): void {
    for (const set of this.#waiting.values()) {
      for (const w of set) {
        if (err === undefined) w.resolve(undefined)
        else w.reject(err)
      }
    }
  }
}
