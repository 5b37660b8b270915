/**
 * How long a mailbox keeps what it holds (docs/protocols/mailbox.md, "Retention"): each message
 * until it is handed over or `messageTtlMs` after its deposit; all of an identity's mail at once
 * when its `/msg/deposit` grant is revoked (or voided by a device removal), and `lapseGraceMs`
 * after the grant's end when it expires, so that a late renewal loses nothing. Mail for a device
 * removed from its identity goes too: no one could collect it.
 *
 * Checked every `sweepIntervalMs` and at once when the delegation service reports a change.
 */
import type { GrantChange } from '../core/delegations.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import type { MailKeeper } from './keeper.ts'
import type { MailIndex } from './mail-index.ts'
import { DEPOSIT_COMMAND, type MailboxDelegation, type MailboxIdentity } from './seams.ts'

export interface RetentionInit {
  lapseGraceMs: number
  sweepIntervalMs: number
}

export interface RetentionComponents {
  keeper: MailKeeper
  index: MailIndex
  identity: MailboxIdentity
  delegation: MailboxDelegation
  log: Logger
}

export class Retention {
  readonly #init: RetentionInit
  readonly #c: RetentionComponents
  #timer: NodeJS.Timeout | undefined
  /** One sweep at a time; a sweep asked for while one runs waits for it. */
  #running: Promise<void> = Promise.resolve()

  constructor(init: RetentionInit, components: RetentionComponents) {
    this.#init = init
    this.#c = components
  }

  start(): void {
    this.#c.delegation.addEventListener('grant:changed', this.#onGrantChanged)
    this.#timer = setInterval(() => void this.sweep(), this.#init.sweepIntervalMs)
    this.#timer.unref()
    void this.sweep()
  }

  async stop(): Promise<void> {
    this.#c.delegation.removeEventListener('grant:changed', this.#onGrantChanged)
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running
  }

  /** Check every identity with mail here (or only `only`). */
  sweep(only?: string): Promise<void> {
    const run = this.#running.then(async () => {
      for (const identity of only === undefined ? this.#c.index.identities() : [only]) {
        try {
          await this.#check(identity, Date.now())
        } catch (err) {
          this.#c.log.warn('mailbox sweep failed', { identity, ...errorFields(err) })
        }
      }
    })
    this.#running = run
    return run
  }

  readonly #onGrantChanged = (evt: CustomEvent<GrantChange>): void => {
    if (evt.detail.command !== DEPOSIT_COMMAND && !DEPOSIT_COMMAND.startsWith(`${evt.detail.command}/`)) return
    if (evt.detail.state !== 'active') void this.sweep(evt.detail.subject)
  }

  async #check(identity: string, now: number): Promise<void> {
    const { keeper, index } = this.#c
    const expired = index.all(identity).filter((m) => m.expiresAt <= now)
    await keeper.drop(identity, expired, 'expired')
    const devices = this.#c.identity.devicesOf(identity)
    if (devices !== undefined) {
      const orphaned = index.all(identity).filter((m) => !devices.includes(m.device))
      await keeper.drop(identity, orphaned, 'removed-device')
    }
    if (index.usage(identity).messages === 0) {
      await keeper.setGrantRecord(identity, undefined)
      return
    }
    const grant = await this.#c.delegation.held(identity, DEPOSIT_COMMAND)
    if (grant !== undefined) {
      await keeper.setGrantRecord(identity, { cid: grant.cid, expiresAt: grant.expiresAt })
      return
    }
    let record = keeper.grantRecord(identity)
    // Revoked: the grant last seen valid (any, when none was seen) was taken back. An older
    // revoked grant does not cut short the grace of a later one that merely expired.
    const lapsed = await this.#c.delegation.lapsed(identity, DEPOSIT_COMMAND)
    if (lapsed.some((g) => g.state === 'revoked' && (record?.cid === undefined || g.cid === record.cid))) {
      await keeper.drop(identity, index.all(identity), 'revoked')
      await keeper.setGrantRecord(identity, undefined)
      return
    }
    // Expired (or never seen): the grace runs from the grant's end, or from now when none was
    // seen or it ended before its stated end (clock skew, a link of the chain that ends sooner).
    if (record === undefined || record.expiresAt > now) {
      record = { ...record, expiresAt: now }
      await keeper.setGrantRecord(identity, record)
    }
    if (now >= record.expiresAt + this.#init.lapseGraceMs) {
      await keeper.drop(identity, index.all(identity), 'lapsed')
      await keeper.setGrantRecord(identity, undefined)
    }
  }
}
