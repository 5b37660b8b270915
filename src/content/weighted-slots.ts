/**
 * Upload capacity shared by weight: when peers wait for the same upload slots or the same rate
 * limit, each is served in proportion to its weight (the ledger's reputation, core/contribution.ts),
 * by start-time fair queueing: a turn's tag is where its peer's previous turns end in virtual
 * time (bytes / weight), and the smallest tag goes first. Peers of equal weight share equally by
 * bytes. Without a weight function every peer weighs 1.
 *
 * A peer's next turn reaches the queue only after its previous one is done (its blocks are sent
 * one after the other), so at the moment a turn ends its peer is never waiting. Picking at once
 * would then hand the slot to whoever else waits, however low its weight, and a peer that is
 * always a moment late would lose its share. So a peer whose turn just ended keeps its place for
 * `rejoinMs`: while it is due before every waiter, the slot waits for it (at most that long; a
 * peer that does not come back loses its place).
 */
import { WEIGHTED_REJOIN_MS } from '../core/constants.ts'
import type { ByteRate } from './throttle.ts'

/** One turn: whose it is and how many bytes it sends. */
export interface Turn {
  key: string
  cost: number
}

interface Waiter {
  key: string | undefined
  tag: number
  order: number
  admit: () => void
}

export interface WeightedSlotsInit {
  /** How long a peer whose turn ended keeps its place, ms (0: never waited for). */
  rejoinMs?: number
}

export class WeightedSlots {
  readonly #size: number
  readonly #weight: (key: string) => number
  readonly #rejoinMs: number
  /** Where each key's turns end, in virtual time; keys behind `#now` are forgotten. */
  readonly #finish = new Map<string, number>()
  /** Keys whose turn just ended, until when their place is kept. */
  readonly #returning = new Map<string, number>()
  readonly #waiting: Waiter[] = []
  #used = 0
  #now = 0
  #order = 0
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(size: number, weight: (key: string) => number = () => 1, init: WeightedSlotsInit = {}) {
    this.#size = Math.max(1, size)
    this.#weight = weight
    this.#rejoinMs = init.rejoinMs ?? WEIGHTED_REJOIN_MS
  }

  /** Resolves with a release function once this turn may go. */
  async acquire(signal?: AbortSignal, turn?: Turn): Promise<() => void> {
    signal?.throwIfAborted()
    const tag = this.#tag(turn)
    if (turn !== undefined) this.#returning.delete(turn.key)
    if (this.#used < this.#size && this.#waiting.length === 0 && !this.#held(tag)) {
      this.#admit(turn?.key, tag)
      return this.#releaser(turn?.key)
    }
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        key: turn?.key,
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
      this.#next()
    })
    return this.#releaser(turn?.key)
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

  #admit(key: string | undefined, tag: number): void {
    this.#used++
    this.#now = Math.max(this.#now, tag)
    if (key !== undefined) this.#returning.delete(key)
  }

  #releaser(key: string | undefined): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      this.#used--
      if (key !== undefined && this.#rejoinMs > 0) this.#returning.set(key, performance.now() + this.#rejoinMs)
      this.#next()
    }
  }

  /**
   * Whether peers whose turn just ended are due before a turn tagged `tag` and would take every
   * free slot (so the turn waits for them).
   */
  #held(tag: number): boolean {
    if (this.#returning.size === 0) return false
    const now = performance.now()
    let until = 0
    let due = 0
    for (const [key, end] of this.#returning) {
      if (end <= now) {
        this.#returning.delete(key)
        continue
      }
      if (Math.max(this.#now, this.#finish.get(key) ?? 0) < tag) {
        due++
        until = Math.max(until, end)
      }
    }
    if (due === 0 || due < this.#size - this.#used) return false
    if (this.#timer === undefined) {
      this.#timer = setTimeout(
        () => {
          this.#timer = undefined
          this.#next()
        },
        Math.max(1, Math.ceil(until - now)),
      )
    }
    return true
  }

  #next(): void {
    if (this.#used >= this.#size) return
    if (this.#waiting.length === 0) {
      // Nobody waits, maybe only for a moment (a peer between two turns): the shares so far must
      // hold, so tags are only moved back to 0 together, and those already passed are forgotten.
      if (this.#used === 0 && this.#returning.size === 0) {
        for (const [key, end] of this.#finish) {
          if (end <= this.#now) this.#finish.delete(key)
          else this.#finish.set(key, end - this.#now)
        }
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
    if (this.#held((this.#waiting[best] as Waiter).tag)) return
    const [waiter] = this.#waiting.splice(best, 1) as [Waiter]
    this.#admit(waiter.key, waiter.tag)
    if (this.#finish.size > 2 * this.#waiting.length + 64) {
      for (const [key, end] of this.#finish) if (end <= this.#now && !this.#returning.has(key)) this.#finish.delete(key)
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

  constructor(rate: ByteRate, weight?: (key: string) => number, init: WeightedSlotsInit = {}) {
    this.#rate = rate
    this.#gate = new WeightedSlots(1, weight, init)
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
