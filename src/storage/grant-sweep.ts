/**
 * Judging kept copies against their grants, so that what is kept for an identity stops with its
 * right to it:
 *
 * - a valid `/store/put` grant from the identity: each copy follows it (a renewal moves the
 *   expiry; a smaller quota drops the newest copies until the rest fit);
 * - none, and the copy's grant is revoked (or voided by a removed device): the copy goes now;
 * - none, and the copy's grant expired: it goes `graceMs` after the expiry, so that a renewal
 *   arriving late loses nothing.
 *
 * Run at start (what lapsed while the node was down), every `intervalMs`, and at once when the
 * delegation service says a grant changed. Dropped roots are then collected (content's gc).
 */
import type { DelegationAuthority, GrantChange } from '../core/delegations.ts'
import type { Logger } from '../core/logger.ts'
import type { DropReason, KeptCopies } from './kept-copies.ts'
import type { KeptCopy } from './kept-store.ts'
import type { Serial } from './serial.ts'
import { COMMANDS } from './wire.ts'

export interface GrantSweepInit {
  graceMs: number
  intervalMs: number
  /** Pinning again a root that lost its pin gives up when no provider is found for this long. */
  repairTimeoutMs: number
}

export interface GrantSweepComponents {
  delegation: Pick<DelegationAuthority, 'held' | 'lapsed' | 'addEventListener' | 'removeEventListener'>
  copies: KeptCopies
  serial: Serial
  log: Logger
  collect(): void
}

export class GrantSweep {
  readonly #init: GrantSweepInit
  readonly #c: GrantSweepComponents
  #timer: ReturnType<typeof setTimeout> | undefined
  #running: Promise<void> | undefined
  #again = false
  #repairing: Promise<void> | undefined
  readonly #repairAbort = new AbortController()
  #stopped = true

  constructor(init: GrantSweepInit, components: GrantSweepComponents) {
    this.#init = init
    this.#c = components
  }

  // Any change may concern a copy (a grant of `/store` or `/` covers `/store/put`); they are rare.
  readonly #onChange = (_evt: CustomEvent<GrantChange>) => this.soon()

  async start(): Promise<void> {
    this.#stopped = false
    this.#c.delegation.addEventListener('grant:changed', this.#onChange)
    await this.sweep()
    this.#schedule()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#c.delegation.removeEventListener('grant:changed', this.#onChange)
    clearTimeout(this.#timer)
    this.#repairAbort.abort(new Error('the node is stopping'))
    await this.#running?.catch(() => {})
    await this.#repairing
  }

  /** Sweep now, or once more right after the sweep that runs. */
  soon(): void {
    if (this.#stopped) return
    if (this.#running !== undefined) {
      this.#again = true
      return
    }
    this.#running = this.sweep()
      .then(
        () => undefined,
        (err) => this.#c.log.warn('storage sweep failed', { error: (err as Error).message }),
      )
      .finally(() => {
        this.#running = undefined
        if (this.#again) {
          this.#again = false
          this.soon()
        }
      })
  }

  /** Judge every kept copy once; returns how many were dropped. */
  async sweep(now = Date.now()): Promise<number> {
    const dropped = await this.#c.serial.run(async () => {
      let n = 0
      for (const [subject, copies] of this.#c.copies.bySubject()) n += await this.#judge(subject, copies, now)
      return n
    })
    if (dropped > 0) this.#c.collect()
    this.#repairSoon()
    return dropped
  }

  async #judge(subject: string, copies: KeptCopy[], now: number): Promise<number> {
    const drop = async (copy: KeptCopy, reason: DropReason) => {
      await this.#c.copies.remove(copy, reason)
      return 1
    }
    let n = 0
    const grant = await this.#c.delegation.held(subject, COMMANDS.put)
    if (grant !== undefined) {
      for (const copy of copies) {
        if (copy.grant !== grant.cid || copy.grantExpiresAt !== grant.expiresAt) {
          await this.#c.copies.update({ ...copy, grant: grant.cid, grantExpiresAt: grant.expiresAt })
        }
      }
      if (grant.quota === undefined) return 0
      let used = copies.reduce((sum, c) => sum + c.size, 0)
      for (const copy of [...copies].sort((a, b) => b.since - a.since)) {
        if (used <= grant.quota) break
        used -= copy.size
        n += await drop(copy, 'over-quota')
      }
      return n
    }
    const lapsed = await this.#c.delegation.lapsed(subject, COMMANDS.put)
    for (const copy of copies) {
      const change = lapsed.find((l) => l.cid === copy.grant)
      if (change?.state === 'revoked') {
        n += await drop(copy, 'revoked')
        continue
      }
      // Not valid now, yet recorded as running longer (a chain link that expired sooner, another
      // clock, or a grant the delegation service no longer knows): the grace starts now.
      let expiresAt = copy.grantExpiresAt
      if (expiresAt > now) {
        expiresAt = now
        await this.#c.copies.update({ ...copy, grantExpiresAt: now })
      }
      if (now >= expiresAt + this.#init.graceMs) n += await drop(copy, 'expired')
    }
    return n
  }

  /**
   * Pin again the kept roots that lost their pin, apart from the sweep: fetching what gc took may
   * wait for providers, and revocations must not wait for it. One run at a time.
   */
  #repairSoon(): void {
    if (this.#stopped || this.#repairing !== undefined) return
    this.#repairing = this.#c.copies.holds
      .repair(this.#c.copies.roots(), { timeoutMs: this.#init.repairTimeoutMs, signal: this.#repairAbort.signal })
      .then(
        () => undefined,
        (err) => this.#c.log.warn('pinning kept roots again failed', { error: (err as Error).message }),
      )
      .finally(() => {
        this.#repairing = undefined
      })
  }

  #schedule(): void {
    if (this.#stopped) return
    this.#timer = setTimeout(() => {
      this.soon()
      this.#schedule()
    }, this.#init.intervalMs)
    this.#timer.unref?.()
  }
}
