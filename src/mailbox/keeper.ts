/**
 * The mailbox side's rules for what it takes and keeps (docs/protocols/mailbox.md, "Bounds"):
 *
 * - a deposit for an identity is admitted only while this node holds a valid `/msg/deposit`
 *   grant from it (`delegation.held`), and only for a current device of that identity;
 * - each envelope must be addressed to that device (its clear `to`), within the envelope bound,
 *   and fit the identity's quota (the grant's, else `defaultQuotaBytes`) in bytes and in
 *   messages, the sender's share of it, and the node's totals; an envelope held already is
 *   taken again without being stored twice;
 * - what it takes it counts before the write, so concurrent deposits cannot pass a bound together.
 */
import { sha256 } from '../core/crypto.ts'
import type { HeldGrant } from '../core/delegations.ts'
import type { Logger } from '../core/logger.ts'
import type { MailIndex } from './mail-index.ts'
import type { GrantRecord, HeldMessage, MailStore } from './mail-store.ts'
import { DEPOSIT_COMMAND, type MailboxDelegation, type MailboxIdentity } from './seams.ts'
import { type Answer, envelopeRecipient, type RefusalCode } from './wire.ts'

export interface KeeperInit {
  defaultQuotaBytes: number
  maxBytes: number
  maxMessagesPerIdentity: number
  maxMessages: number
  senderSharePercent: number
  messageTtlMs: number
  maxEnvelopeBytes: number
}

export interface KeeperEvents {
  'mailbox:deposited': { identity: string; device: string; sender: string; bytes: number; messages: number }
  'mailbox:refused': { identity: string; device: string; sender: string; code: RefusalCode; error: string }
  'mailbox:dropped': { identity: string; messages: number; bytes: number; reason: DropReason }
}

/** Why held mail went without being handed over. */
export type DropReason = 'expired' | 'revoked' | 'lapsed' | 'removed-device'

export interface KeeperComponents {
  store: MailStore
  index: MailIndex
  identity: MailboxIdentity
  delegation: MailboxDelegation
  log: Logger
  emit<K extends keyof KeeperEvents>(type: K, detail: KeeperEvents[K]): void
}

/** A deposit admitted for one device: the quota that applies to it. */
export interface Admission {
  identity: string
  device: string
  quota: number
}

export type Refusal = { code: RefusalCode; error: string }

export class MailKeeper {
  readonly #init: KeeperInit
  readonly #c: KeeperComponents
  /** The last grant seen valid per identity (persisted): when its mail lapses. */
  readonly #grants = new Map<string, GrantRecord>()

  constructor(init: KeeperInit, components: KeeperComponents) {
    this.#init = init
    this.#c = components
  }

  async start(): Promise<void> {
    for (const m of await this.#c.store.load()) this.#c.index.add(m)
    for (const [identity, record] of await this.#c.store.grants()) this.#grants.set(identity, record)
  }

  grantRecord(identity: string): GrantRecord | undefined {
    return this.#grants.get(identity)
  }

  async setGrantRecord(identity: string, record: GrantRecord | undefined): Promise<void> {
    if (record === undefined) {
      if (!this.#grants.delete(identity)) return
      await this.#c.store.deleteGrant(identity)
      return
    }
    const known = this.#grants.get(identity)
    if (known?.cid === record.cid && known?.expiresAt === record.expiresAt) return
    this.#grants.set(identity, record)
    await this.#c.store.putGrant(identity, record)
  }

  /** The quota a grant gives (bytes). */
  quotaOf(grant: Pick<HeldGrant, 'quota'> | undefined): number {
    return grant?.quota ?? this.#init.defaultQuotaBytes
  }

  /** May `identity`'s mail for `device` be deposited here? */
  async admit(identity: string, device: string, sender: string): Promise<Admission | Refusal> {
    const grant = await this.#c.delegation.held(identity, DEPOSIT_COMMAND)
    if (grant === undefined) {
      return this.#refuse(identity, device, sender, {
        code: 'no-delegation',
        error: `this peer holds no mailbox delegation for identity ${identity}`,
      })
    }
    await this.setGrantRecord(identity, { cid: grant.cid, expiresAt: grant.expiresAt })
    if (this.#c.identity.devicesOf(identity)?.includes(device) !== true) {
      return this.#refuse(identity, device, sender, {
        code: 'not-a-device',
        error: `${device} is not a current device of identity ${identity} as this mailbox knows it`,
      })
    }
    return { identity, device, quota: this.quotaOf(grant) }
  }

  /** Take one envelope under an admission; the answer says whether it is held. */
  async accept(admission: Admission, sender: string, envelope: Uint8Array): Promise<Answer> {
    const { identity, device, quota } = admission
    const refusal = this.#check(admission, sender, envelope)
    if (refusal !== undefined) return { ok: false, ...this.#refuse(identity, device, sender, refusal) }
    const hash = Buffer.from(sha256(envelope)).toString('hex')
    if (this.#c.index.holds(identity, hash)) return { ok: true }
    const now = Date.now()
    const meta: HeldMessage = {
      identity,
      device,
      order: this.#c.store.nextOrder(now),
      sender,
      size: envelope.length,
      hash,
      depositedAt: now,
      expiresAt: now + this.#init.messageTtlMs,
    }
    // Counted before the write, so two deposits at once cannot pass a bound together.
    this.#c.index.add(meta)
    try {
      await this.#c.store.put(meta, envelope)
    } catch (err) {
      this.#c.index.remove(meta)
      throw err
    }
    const usage = this.#c.index.usage(identity)
    this.#c.log.debug('mail deposited', { identity, device, sender, bytes: meta.size, quota })
    this.#c.emit('mailbox:deposited', { identity, device, sender, bytes: meta.size, messages: usage.messages })
    return { ok: true }
  }

  /** A handed-over message the device acknowledged: gone for good. */
  async remove(meta: HeldMessage): Promise<void> {
    if (!this.#c.index.remove(meta)) return
    try {
      await this.#c.store.delete([meta])
    } catch (err) {
      this.#c.index.add(meta)
      throw err
    }
  }

  /** Drop held messages without handing them over (expired, revoked, lapsed, removed device). */
  async drop(identity: string, metas: readonly HeldMessage[], reason: DropReason): Promise<void> {
    const gone = metas.filter((m) => this.#c.index.remove(m))
    if (gone.length === 0) return
    await this.#c.store.delete(gone)
    const bytes = gone.reduce((n, m) => n + m.size, 0)
    this.#c.log.info('held mail dropped', { identity, messages: gone.length, bytes, reason })
    this.#c.emit('mailbox:dropped', { identity, messages: gone.length, bytes, reason })
  }

  #check(admission: Admission, sender: string, envelope: Uint8Array): Refusal | undefined {
    const { identity, device, quota } = admission
    const init = this.#init
    const size = envelope.length
    if (size > init.maxEnvelopeBytes) {
      return { code: 'too-large', error: `an envelope of ${size} bytes is over the limit of ${init.maxEnvelopeBytes}` }
    }
    if (envelopeRecipient(envelope) !== device) {
      return { code: 'wrong-device', error: `not a direct-message envelope addressed to ${device}` }
    }
    const index = this.#c.index
    const used = index.usage(identity)
    if (used.bytes + size > quota || used.messages + 1 > init.maxMessagesPerIdentity) {
      return {
        code: 'quota',
        error: `the mailbox quota of identity ${identity} is full: it holds ${used.messages} messages, ${used.bytes} of ${quota} bytes`,
      }
    }
    const mine = index.senderUsage(identity, sender)
    const shareBytes = Math.floor((quota * init.senderSharePercent) / 100)
    const shareMessages = Math.floor((init.maxMessagesPerIdentity * init.senderSharePercent) / 100)
    if (mine.bytes + size > shareBytes || mine.messages + 1 > shareMessages) {
      return {
        code: 'sender-share',
        error: `this sender already fills its share (${init.senderSharePercent} %) of identity ${identity}'s mailbox quota`,
      }
    }
    const total = index.total()
    if (total.bytes + size > init.maxBytes || total.messages + 1 > init.maxMessages) {
      return { code: 'full', error: 'this mailbox holds all it takes for everyone' }
    }
    return undefined
  }

  #refuse(identity: string, device: string, sender: string, refusal: Refusal): Refusal {
    this.#c.log.debug('deposit refused', { identity, device, sender, code: refusal.code })
    this.#c.emit('mailbox:refused', { identity, device, sender, ...refusal })
    return refusal
  }
}
