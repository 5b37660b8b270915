/**
 * When the owner checks each placed copy: at random times, each wait drawn from an exponential
 * distribution of mean `meanMs` (a Poisson process: the keeper cannot tell when the next check
 * comes, whatever it saw before). One timer for all copies, set to the earliest due; due checks
 * run one at a time. A keeper that cannot be dialled then is recorded as unreachable and asked
 * again at the next draw.
 */
import type { Logger } from '../core/logger.ts'

export interface CheckScheduleComponents {
  check(peer: string, cid: string): Promise<unknown>
  log: Logger
}

export class CheckSchedule {
  readonly #meanMs: number
  readonly #c: CheckScheduleComponents
  /** Due time (ms since epoch) by `peer/cid`. */
  readonly #due = new Map<string, { peer: string; cid: string; at: number }>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #running: Promise<void> | undefined
  #stopped = true

  constructor(meanMs: number, components: CheckScheduleComponents) {
    this.#meanMs = meanMs
    this.#c = components
  }

  start(): void {
    this.#stopped = false
    this.#arm()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#timer)
    await this.#running
  }

  /** Schedule a copy's next check (a fresh draw). */
  add(peer: string, cid: string, now = Date.now()): void {
    this.#due.set(`${peer}/${cid}`, { peer, cid, at: now + this.draw() })
    this.#arm()
  }

  remove(peer: string, cid: string): void {
    this.#due.delete(`${peer}/${cid}`)
  }

  /** When a copy is due next, ms since epoch. */
  dueAt(peer: string, cid: string): number | undefined {
    return this.#due.get(`${peer}/${cid}`)?.at
  }

  /** One exponential wait of mean `meanMs`, ms (at least 1). */
  draw(): number {
    const u = (crypto.getRandomValues(new Uint32Array(1))[0] as number) / 2 ** 32
    return Math.max(1, Math.round(-Math.log(1 - u) * this.#meanMs))
  }

  #arm(): void {
    clearTimeout(this.#timer)
    if (this.#stopped || this.#running !== undefined || this.#due.size === 0) return
    let next = Number.POSITIVE_INFINITY
    for (const d of this.#due.values()) next = Math.min(next, d.at)
    // setTimeout holds at most 2^31-1 ms; a later due time is reached in several hops.
    const wait = Math.min(Math.max(0, next - Date.now()), 2 ** 31 - 1)
    this.#timer = setTimeout(() => {
      this.#running = this.#runDue().finally(() => {
        this.#running = undefined
        this.#arm()
      })
    }, wait)
    this.#timer.unref?.()
  }

  async #runDue(): Promise<void> {
    for (const [key, d] of [...this.#due]) {
      if (this.#stopped) return
      if (d.at > Date.now()) continue
      try {
        await this.#c.check(d.peer, d.cid)
      } catch (err) {
        this.#c.log.warn('scheduled storage check could not run', {
          peer: d.peer,
          cid: d.cid,
          error: (err as Error).message,
        })
      }
      // Drawn after the check ends, so a slow keeper is not asked again at once.
      if (this.#due.has(key)) this.#due.set(key, { ...d, at: Date.now() + this.draw() })
    }
  }
}
