/**
 * Bytes per second over a sliding window, in fixed memory: the window is cut into buckets and
 * only their totals are kept, so a fast peer delivering thousands of blocks a second costs the
 * same as a slow one.
 */

/** The window rates are measured over, ms. */
export const RATE_WINDOW_MS = 3000
/** Buckets in the window (each RATE_WINDOW_MS / RATE_BUCKETS long). */
const RATE_BUCKETS = 12
/** A rate is never measured over less than this, so the first block does not read as a burst. */
const MIN_SPAN_MS = 250

export class RateMeter {
  readonly #bucketMs = RATE_WINDOW_MS / RATE_BUCKETS
  readonly #bytes = new Float64Array(RATE_BUCKETS)
  /** Index (time / bucketMs) of the bucket each slot holds. */
  readonly #slot = new Float64Array(RATE_BUCKETS).fill(-1)
  readonly #startedAt: number

  /** `startedAt`: when measuring began (performance.now()); the rate of a young meter is over its age. */
  constructor(startedAt = performance.now()) {
    this.#startedAt = startedAt
  }

  add(bytes: number, now = performance.now()): void {
    const index = Math.floor(now / this.#bucketMs)
    const i = index % RATE_BUCKETS
    if (this.#slot[i] !== index) {
      this.#slot[i] = index
      this.#bytes[i] = 0
    }
    this.#bytes[i] = (this.#bytes[i] as number) + bytes
  }

  /** Bytes per second over the last RATE_WINDOW_MS (or since the start, if shorter). */
  rate(now = performance.now()): number {
    const current = Math.floor(now / this.#bucketMs)
    let sum = 0
    for (let i = 0; i < RATE_BUCKETS; i++) {
      const slot = this.#slot[i] as number
      if (slot >= 0 && current - slot < RATE_BUCKETS) sum += this.#bytes[i] as number
    }
    if (sum === 0) return 0
    const span = Math.max(MIN_SPAN_MS, Math.min(RATE_WINDOW_MS, now - this.#startedAt))
    return Math.round((sum / span) * 1000)
  }
}
