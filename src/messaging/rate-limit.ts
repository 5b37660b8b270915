/**
 * Token bucket per peer: `burst` messages at once, refilled at `perMinute`. Past `maxPeers`
 * buckets, the full ones (peers idle long enough to be back at `burst`) are forgotten.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>()
  readonly #burst: number
  readonly #perMs: number
  readonly #maxPeers: number

  constructor(burst: number, perMinute: number, maxPeers: number) {
    this.#burst = burst
    this.#perMs = perMinute / 60_000
    this.#maxPeers = maxPeers
  }

  /** Take one token for `key`; when the bucket is empty, say how long until the next one. */
  take(key: string, now = Date.now()): { ok: true } | { ok: false; retryAfterMs: number } {
    const b = this.#buckets.get(key) ?? { tokens: this.#burst, at: now }
    b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) * this.#perMs)
    b.at = now
    this.#buckets.set(key, b)
    if (this.#buckets.size > this.#maxPeers) this.#prune(now)
    if (b.tokens >= 1) {
      b.tokens -= 1
      return { ok: true }
    }
    return { ok: false, retryAfterMs: Math.ceil((1 - b.tokens) / this.#perMs) }
  }

  #prune(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.#perMs >= this.#burst) this.#buckets.delete(key)
    }
  }
}
