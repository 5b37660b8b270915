/**
 * Upload capacity shared by weight: when peers wait for the same upload slots or the same rate
 * limit, each is served in proportion to its weight (the ledger's reputation, core/contribution.ts),
 * by start-time fair queueing: a turn's tag is where its peer's previous turns end in virtual
 * time (bytes / weight), and the smallest tag goes first. Peers of equal weight share equally by
 * bytes; a peer alone is never held back. Without a weight function every peer weighs 1.
 */
import type { ByteRate } from './throttle.ts'

/** One turn: whose it is and how many bytes it sends. */
export interface Turn {
  key: string
  cost: number
}

interface Waiter {
  tag: number
  order: number
  admit: () => void
}

export class WeightedSlots {
  readonly #size: number
  readonly #weight: (key: string) => number
  /** Where each key's queued turns end, in virtual time; only keys ahead of `#now` are kept. */
  readonly #finish = new Map<string, number>()
  readonly #waiting: Waiter[] = []
  #used = 0
  #now = 0
  #order = 0

  constructor(size: number, weight: (key: string) => number = () => 1) {
    this.#size = Math.max(1, size)
    this.#weight = weight
  }

  /** Resolves with a release function once this turn may go. */
  async acquire(signal?: AbortSignal, turn?: Turn): Promise<() => void> {
    signal?.throwIfAborted()
    const tag = this.#tag(turn)
    if (this.#used < this.#size && this.#waiting.length === 0) {
      this.#used++
      this.#now = Math.max(this.#now, tag)
      return this.#releaser()
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        tag,
        order: this.#order++,
        admit: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      const onAbort = () => {
        const i = this.#waiting.indexOf(waiter)
        if (i >= 0) this.#waiting.splice(i, 1)
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiting.push(waiter)
    })
    return this.#releaser()
  }

  /** Turns waiting (for tests and diagnostics). */
  get waiting(): number {
    return this.#waiting.length
  }

  #tag(turn: Turn | undefined): number {
    if (turn === undefined) return this.#now
    const weight = this.#weight(turn.key)
    const start = Math.max(this.#now, this.#finish.get(turn.key) ?? 0)
    const w = Number.isFinite(weight) && weight > 0 ? weight : 1
    this.#finish.set(turn.key, start + Math.max(1, turn.cost) / w)
    return start
  }

  #releaser(): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      this.#used--
      this.#next()
    }
  }

  #next(): void {
    if (this.#waiting.length === 0) {
      if (this.#used === 0) {
        // Idle: nobody competes, so the past shares no longer matter.
        this.#finish.clear()
        this.#now = 0
      }
      return
    }
    let best = 0
    for (let i = 1; i < this.#waiting.length; i++) {
      const w = this.#waiting[i] as Waiter
      const b = this.#waiting[best] as Waiter
      if (w.tag < b.tag || (w.tag === b.tag && w.order < b.order)) best = i
    }
    const [waiter] = this.#waiting.splice(best, 1) as [Waiter]
    this.#used++
    this.#now = Math.max(this.#now, waiter.tag)
    if (this.#finish.size > 2 * this.#waiting.length + 64) {
      for (const [key, end] of this.#finish) if (end <= this.#now) this.#finish.delete(key)
    }
    waiter.admit()
  }
}

/**
 * A rate limit whose waiters go in weighted order: one turn at a time passes the gate to the
 * token bucket, chosen by `WeightedSlots`. Unlimited (rate 0) passes at once.
 */
export class WeightedRate {
  readonly #rate: ByteRate
  readonly #gate: WeightedSlots

  constructor(rate: ByteRate, weight?: (key: string) => number) {
    this.#rate = rate
    this.#gate = new WeightedSlots(1, weight)
  }

  get bytesPerSecond(): number {
    return this.#rate.bytesPerSecond
  }

  async take(n: number, signal?: AbortSignal, key?: string): Promise<void> {
    if (this.#rate.bytesPerSecond <= 0) return
    const release = await this.#gate.acquire(signal, key === undefined ? undefined : { key, cost: n })
    try {
      await this.#rate.take(n, signal)
    } finally {
      release()
    }
  }
}
