/**
 * The codes a new device has shown and waits on. A code works once: the first pairing that names
 * it (by its code ID) claims it, whatever the outcome; a later one is told it was used, and one
 * after the expiry that it expired. Bounded: past `maxCodes` entries the oldest finished one is
 * forgotten, else the oldest waiting one is dropped. Whenever a waiting code ends without a
 * pairing (dropped, or found past its expiry) `onExpired` tells its waiter.
 */
import { InvalidPairingCodeError, PairingCodeExpiredError, PairingCodeUsedError } from '../../core/errors.ts'

export interface PendingCode<T> {
  /** Hex of the code ID. */
  readonly id: string
  readonly secret: Uint8Array
  readonly expiresAt: number
  /** What the waiter attached (its callbacks and how to settle it). */
  readonly waiter: T
  state: 'waiting' | 'used' | 'expired'
}

export class PendingCodes<T> {
  readonly #codes = new Map<string, PendingCode<T>>()
  readonly #max: number
  readonly #now: () => number
  readonly #onExpired: (code: PendingCode<T>) => void

  constructor(max: number, now: () => number, onExpired: (code: PendingCode<T>) => void) {
    this.#max = Math.max(1, max)
    this.#now = now
    this.#onExpired = onExpired
  }

  add(code: PendingCode<T>): void {
    while (this.#codes.size >= this.#max) {
      const finished = [...this.#codes.values()].find((c) => c.state !== 'waiting')
      const victim = finished ?? (this.#codes.values().next().value as PendingCode<T>)
      this.#codes.delete(victim.id)
      if (victim.state === 'waiting') {
        victim.state = 'expired'
        this.#onExpired(victim)
      }
    }
    this.#codes.set(code.id, code)
  }

  /**
   * Claim the code named by `id` for one pairing attempt. Throws InvalidPairingCodeError (not a
   * code this device waits on), PairingCodeUsedError or PairingCodeExpiredError.
   */
  claim(id: string): PendingCode<T> {
    const code = this.#codes.get(id)
    if (code === undefined) throw new InvalidPairingCodeError('this device is not waiting on that pairing code')
    if (code.state === 'used') throw new PairingCodeUsedError('the pairing code was already used')
    if (code.state === 'expired' || this.#now() >= code.expiresAt) {
      if (code.state === 'waiting') {
        code.state = 'expired'
        this.#onExpired(code)
      }
      throw new PairingCodeExpiredError('the pairing code has expired')
    }
    code.state = 'used'
    return code
  }

  /** Mark a code expired; true when it was still waiting (its waiter must be told). */
  expire(id: string): boolean {
    const code = this.#codes.get(id)
    if (code?.state !== 'waiting') return false
    code.state = 'expired'
    return true
  }

  get(id: string): PendingCode<T> | undefined {
    return this.#codes.get(id)
  }

  /** Codes still waiting for a pairing. */
  waiting(): number {
    let n = 0
    for (const c of this.#codes.values()) if (c.state === 'waiting') n++
    return n
  }

  /** Forget everything; returns the codes that were still waiting. */
  clear(): Array<PendingCode<T>> {
    const waiting = [...this.#codes.values()].filter((c) => c.state === 'waiting')
    this.#codes.clear()
    return waiting
  }
}
