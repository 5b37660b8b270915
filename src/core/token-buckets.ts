/**
 * One token bucket per key (a peer): `burst` tokens at once, refilled at `perSecond`. Past
 * `maxKeys` buckets the full ones (keys idle long enough to be back at `burst`) are forgotten
 * first, then the oldest, so a stream of new keys cannot grow the map without bound.
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>()
  readonly #burst: number
  readonly #perMs: number
  readonly #maxKeys: number

  constructor(burst: number, perSecond: number, maxKeys: number) {
    this.#burst = burst
    this.#perMs = perSecond / 1000
    this.#maxKeys = maxKeys
  }

  /** Take `cost` tokens of `key`'s bucket; false (nothing taken) when it holds fewer. */
  take(key: string, cost = 1, now = Date.now()): boolean {
    const b = this.#buckets.get(key) ?? { tokens: this.#burst, at: now }
    b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) * this.#perMs)
    b.at = now
    this.#buckets.set(key, b)
    if (this.#buckets.size > this.#maxKeys) this.#prune(now)
    if (b.tokens < cost) return false
    b.tokens -= cost
    return true
  }

  #prune(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.#perMs >= this.#burst) this.#buckets.delete(key)
    }
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size <= this.#maxKeys) break
      this.#buckets.delete(key)
    }
  }
}
