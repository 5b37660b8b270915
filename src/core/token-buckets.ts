/**
 * Token buckets per key (a peer, a device): `burst` tokens at once, refilled at `perSecond`.
 * The one rate limiter of the code base: the peer guard's streams, the blocks server's answers
 * for missing blocks, direct messages per sender, ledger and storage requests per peer.
 *
 * Bounded: at most `maxKeys` buckets. Past it, the full ones (keys idle long enough to be back
 * at `burst`) are forgotten first, then the least recently used; a forgotten key comes back
 * full, which costs at most one burst. So a stream of new keys cannot grow the map.
 */
export class TokenBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>()
  readonly #burst: number
  readonly #perMs: number
  readonly #maxKeys: number

  constructor(burst: number, perSecond: number, maxKeys: number) {
    this.#burst = Math.max(1, burst)
    this.#perMs = Math.max(Number.MIN_VALUE, perSecond) / 1000
    this.#maxKeys = Math.max(1, maxKeys)
  }

  /** `perMinute` a minute with a burst of as many: the usual request limit. */
  static perMinute(perMinute: number, maxKeys: number): TokenBuckets {
    return new TokenBuckets(perMinute, perMinute / 60, maxKeys)
  }

  /** Take `cost` tokens of `key`'s bucket; false (nothing taken) when it holds fewer. */
  take(key: string, cost = 1, now = Date.now()): boolean {
    return this.#bucket(key, now).tokens >= cost ? this.#spend(key, cost) : false
  }

  /** Like take(); when refused, also how long until the bucket holds `cost`, ms. */
  tryTake(key: string, cost = 1, now = Date.now()): { ok: true } | { ok: false; retryAfterMs: number } {
    const b = this.#bucket(key, now)
    if (b.tokens >= cost) {
      this.#spend(key, cost)
      return { ok: true }
    }
    return { ok: false, retryAfterMs: Math.ceil((cost - b.tokens) / this.#perMs) }
  }

  /** Number of buckets kept (for tests of the bound). */
  get size(): number {
    return this.#buckets.size
  }

  #bucket(key: string, now: number): { tokens: number; at: number } {
    const b = this.#buckets.get(key) ?? { tokens: this.#burst, at: now }
    b.tokens = Math.min(this.#burst, b.tokens + Math.max(0, now - b.at) * this.#perMs)
    b.at = now
    // Re-inserted so the map's order is least recently used first.
    this.#buckets.delete(key)
    this.#buckets.set(key, b)
    if (this.#buckets.size > this.#maxKeys) this.#prune(now, key)
    return b
  }

  #spend(key: string, cost: number): true {
    const b = this.#buckets.get(key)
    if (b !== undefined) b.tokens -= cost
    return true
  }

  #prune(now: number, keep: string): void {
    for (const [key, b] of this.#buckets) {
      if (key !== keep && b.tokens + (now - b.at) * this.#perMs >= this.#burst) this.#buckets.delete(key)
    }
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size <= this.#maxKeys) break
      if (key !== keep) this.#buckets.delete(key)
    }
  }
}
