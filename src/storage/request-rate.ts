/**
 * Requests per peer per minute, as a token bucket (burst = the per-minute number), so that one
 * peer's checks cannot keep a keeper reading and hashing blocks for others. The state of at most
 * `maxPeers` peers is kept; past it the one idle longest is forgotten (it starts again full).
 */
export class RequestRate {
  readonly #perMinute: number
  readonly #maxPeers: number
  readonly #buckets = new Map<string, { tokens: number; at: number }>()

  constructor(perMinute: number, maxPeers: number) {
    this.#perMinute = perMinute
    this.#maxPeers = maxPeers
  }

  /** Take one request's token for `peer`; false when it has none left. */
  take(peer: string, now = Date.now()): boolean {
    const bucket = this.#buckets.get(peer) ?? { tokens: this.#perMinute, at: now }
    bucket.tokens = Math.min(this.#perMinute, bucket.tokens + ((now - bucket.at) * this.#perMinute) / 60_000)
    bucket.at = now
    // Re-inserted so the map's order is least recently used first.
    this.#buckets.delete(peer)
    this.#buckets.set(peer, bucket)
    if (this.#buckets.size > this.#maxPeers) this.#buckets.delete(this.#buckets.keys().next().value as string)
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }
}
