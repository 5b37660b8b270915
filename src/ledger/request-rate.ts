/**
 * Per-key token buckets (a peer's requests, a device's gossiped receipts): `perMinute` a minute
 * with a burst of as many. At most `maxKeys` buckets; past it the idlest is forgotten (it comes
 * back full, which costs at most one burst).
 */
interface Bucket {
  tokens: number
  at: number
}

export class RequestRate {
  readonly #perMinute: number
  readonly #maxKeys: number
  readonly #buckets = new Map<string, Bucket>()

  constructor(perMinute: number, maxKeys: number) {
    this.#perMinute = Math.max(1, perMinute)
    this.#maxKeys = Math.max(1, maxKeys)
  }

  /** Take one token for `key`; false when it has none left. */
  take(key: string, now = Date.now()): boolean {
    let b = this.#buckets.get(key)
    if (b === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#evict()
      b = { tokens: this.#perMinute, at: now }
    } else {
      this.#buckets.delete(key)
      b.tokens = Math.min(this.#perMinute, b.tokens + ((now - b.at) / 60_000) * this.#perMinute)
      b.at = now
    }
    // Re-inserted so the map's order is least recently used first.
    this.#buckets.set(key, b)
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  #evict(): void {
    const oldest = this.#buckets.keys().next().value
    if (oldest !== undefined) this.#buckets.delete(oldest)
  }
}
