/**
 * Rate limits and upload slots for the swarm: a byte token bucket that callers await, a FIFO
 * semaphore (first come, first served, so every waiting peer gets its turn), and one such
 * semaphore per peer for per-peer caps.
 */
import { sleep } from '../core/abort.ts'

/** Bytes per second; 0 means unlimited. `take(n)` resolves when n bytes may pass. */
export class ByteRate {
  #rate: number
  #tokens: number
  #at = performance.now()
  #queue: Promise<void> = Promise.resolve()

  constructor(bytesPerSecond: number) {
    this.#rate = bytesPerSecond
    this.#tokens = 0
  }

  get bytesPerSecond(): number {
    return this.#rate
  }

  setRate(bytesPerSecond: number): void {
    this.#rate = bytesPerSecond
  }

  /** Wait until `n` bytes fit under the rate. Callers are served in order. */
  take(n: number, signal?: AbortSignal): Promise<void> {
    if (this.#rate <= 0) return Promise.resolve()
    const turn = this.#queue.then(() => this.#wait(n, signal))
    // A cancelled waiter must not block the ones behind it.
    this.#queue = turn.catch(() => {})
    return turn
  }

  async #wait(n: number, signal?: AbortSignal): Promise<void> {
    // The bucket holds at most 100 ms of traffic (or one whole request, if larger), so an idle
    // period does not let a burst through far above the rate.
    const burst = Math.max(this.#rate / 10, n)
    for (;;) {
      signal?.throwIfAborted()
      const now = performance.now()
      this.#tokens = Math.min(burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate)
      this.#at = now
      if (this.#tokens >= n || this.#rate <= 0) {
        this.#tokens -= n
        return
      }
      const ms = Math.ceil(((n - this.#tokens) / this.#rate) * 1000)
      await sleep(Math.min(ms, 250), signal)
    }
  }
}

/** At most `size` holders at once; waiters are admitted in arrival order. */
export class Slots {
  readonly #size: number
  #used = 0
  readonly #waiting: Array<() => void> = []

  constructor(size: number) {
    this.#size = Math.max(1, size)
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.#used < this.#size) {
      this.#used++
      return this.#releaser()
    }
    await new Promise<void>((resolve, reject) => {
      const admit = () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = () => {
        const i = this.#waiting.indexOf(admit)
        if (i >= 0) this.#waiting.splice(i, 1)
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiting.push(admit)
    })
    return this.#releaser()
  }

  #releaser(): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      const next = this.#waiting.shift()
      // Hand the slot straight to the next waiter; otherwise free it.
      if (next === undefined) this.#used--
      else next()
    }
  }
}

/**
 * One `Slots` of `size` per key (a peer), made on first use and dropped when nobody holds or
 * waits for it, so the map is bounded by the keys in use.
 */
export class KeyedSlots {
  readonly #size: number
  readonly #byKey = new Map<string, { slots: Slots; users: number }>()

  constructor(size: number) {
    this.#size = Math.max(1, size)
  }

  async acquire(key: string, signal?: AbortSignal): Promise<() => void> {
    let entry = this.#byKey.get(key)
    if (entry === undefined) {
      entry = { slots: new Slots(this.#size), users: 0 }
      this.#byKey.set(key, entry)
    }
    const held = entry
    held.users++
    const leave = () => {
      held.users--
      if (held.users === 0) this.#byKey.delete(key)
    }
    let release: () => void
    try {
      release = await held.slots.acquire(signal)
    } catch (err) {
      leave()
      throw err
    }
    let released = false
    return () => {
      if (released) return
      released = true
      release()
      leave()
    }
  }

  /** Keys with a holder or a waiter. */
  get size(): number {
    return this.#byKey.size
  }
}
