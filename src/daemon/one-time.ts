/**
 * One-time codes: random, single use, expiring. The dashboard's login link carries one (traded
 * for the API token once), and so does a download link (a browser cannot send the token with
 * a plain link). Codes live in memory only: a restarted daemon forgets them.
 */
import { randomBytes } from 'node:crypto'

interface Entry<T> {
  value: T
  expiresAt: number
}

export class OneTimeCodes<T> {
  readonly #entries = new Map<string, Entry<T>>()
  readonly #ttlMs: number
  readonly #max: number

  /** `max` bounds how many unexpired codes are kept; the oldest go first. */
  constructor(options: { ttlMs: number; max?: number }) {
    this.#ttlMs = options.ttlMs
    this.#max = options.max ?? 1024
  }

  issue(value: T, now = Date.now()): { code: string; expiresAt: number } {
    this.#sweep(now)
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value
      if (oldest === undefined) break
      this.#entries.delete(oldest)
    }
    const code = randomBytes(24).toString('base64url')
    const expiresAt = now + this.#ttlMs
    this.#entries.set(code, { value, expiresAt })
    return { code, expiresAt }
  }

  /** The value of a valid code, which is then spent; undefined for unknown, used or expired codes. */
  redeem(code: string, now = Date.now()): T | undefined {
    const entry = this.#entries.get(code)
    if (entry === undefined) return undefined
    this.#entries.delete(code)
    return entry.expiresAt > now ? entry.value : undefined
  }

  #sweep(now: number): void {
    for (const [code, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(code)
  }
}
