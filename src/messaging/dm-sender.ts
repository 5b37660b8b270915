/**
 * The sending side of `/lateral/dm/1.0.0`: the outbox and its delivery.
 *
 * - `send` allocates the recipient's next sequence number, seals the message and writes it to
 *   the outbox under that recipient's lock, so concurrent sends get distinct numbers in call
 *   order and none overwrites another.
 * - Delivery (a flush) writes a recipient's waiting envelopes in order on one stream, each
 *   waiting for its ack (with a deadline); one flush per recipient at a time. A flush asked for
 *   while one runs is coalesced into a single next flush, which sees everything written before.
 * - Each `send` reports what happened to its own message in the flush that carried it:
 *   `delivered` only on an ok ack, `failed` on a final refusal, else `queued` with the reason.
 * - Undelivered messages are retried with exponential backoff and at once when the peer connects.
 */

import * as cbor from '@ipld/dag-cbor'
import { raceAbort } from '../core/abort.ts'
import {
  DEFAULT_DM_ACK_TIMEOUT_MS,
  DEFAULT_DM_OPEN_TIMEOUT_MS,
  DM_PROTOCOL,
  DM_RETRY_AFTER_MAX_MS,
  DM_RETRY_MAX_MS,
  DM_RETRY_MIN_MS,
} from '../core/constants.ts'
import { InvalidInputError, OutboxFullError, TimeoutError } from '../core/errors.ts'
import { encodeFrame, readFrames } from '../core/framing.ts'
import { type IdentityDirectory, revocationReason } from '../core/identities.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import type { Signer } from '../core/signer.ts'
import { isStreamTeardownError, type Net, type ProtocolStream } from '../net/index.ts'
import { type Ack, DM_ACK_MAX_BYTES, decodeAck } from './dm-ack.ts'
import { type DirectMessage, newMessageId, sealDirectMessage } from './dm-envelope.ts'
import type { DirectMessageStore, OutboxEntry } from './dm-store.ts'
import { KeyedMutex } from './keyed-mutex.ts'

/** Codes after which the sender tries again later; anything else is final. */
const RETRYABLE = new Set<string>(['rate-limited', 'inbox-full'])

export interface DirectMessageSenderInit {
  maxBodyBytes: number
  outboxCap: number
  retryMinMs?: number
  retryMaxMs?: number
  /** Longest wait a recipient's `retryAfterMs` can impose. */
  retryAfterMaxMs?: number
  /** Deadline for opening a stream to the recipient. */
  openTimeoutMs?: number
  /** Deadline from writing an envelope to reading its acknowledgement. */
  ackTimeoutMs?: number
}

export interface DirectMessageSenderComponents {
  net: Net
  store: DirectMessageStore
  signer: Signer
  /** Removed devices, and the vault that seals the sender's copies under the identity's data key. */
  identities: IdentityDirectory
  log: Logger
  emit(type: 'dm:delivered' | 'dm:deposited' | 'dm:queued' | 'dm:failed', detail: unknown): void
}

export interface SendResult {
  id: string
  to: string
  seq: number
  /** `deposited`: the recipient was unreachable and a mailbox of its identity took the message. */
  status: 'delivered' | 'deposited' | 'queued' | 'failed'
  error?: string
  /** For `deposited`: the mailbox peer that holds it. */
  mailbox?: string
}

/**
 * Where messages for an unreachable device can wait (the mailbox service sets it): given the
 * device's waiting envelopes in order, it deposits a prefix of them with a mailbox of the
 * device's identity and says how many it took. Envelopes are sealed to the device: the mailbox
 * cannot read them.
 */
export interface DirectMessageFallback {
  deposit(
    to: string,
    envelopes: ReadonlyArray<{ id: string; seq: number; envelope: Uint8Array }>,
  ): Promise<{ taken: number; mailbox?: string; error?: string }>
}

export type OutboxView = Omit<OutboxEntry, 'envelope' | 'selfCopy'> & { type: string; body: Uint8Array }

/** What the sender's own copies are sealed for (see core/vault.ts). */
const OUTBOX_PURPOSE = 'outbox'

type Outcome = {
  status: SendResult['status']
  error?: string
  mailbox?: string
  /** Queued because the stream was cut under it (its connection closed), not refused. */
  cut?: boolean
}

export class DirectMessageSender {
  readonly #init: DirectMessageSenderInit
  readonly #c: DirectMessageSenderComponents
  readonly #locks = new KeyedMutex()
  readonly #flushes = new Map<string, { running: Promise<void>; again?: Promise<void> }>()
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #backoff = new Map<string, number>()
  /** IDs whose `send` waits for its flush, and what that flush did with them. */
  readonly #waiting = new Set<string>()
  readonly #outcomes = new Map<string, Outcome>()
  /** Entries in the outbox (failed ones included), counting slots reserved by sends in progress. */
  #outboxCount = 0
  #running = false
  #fallback: DirectMessageFallback | undefined

  constructor(init: DirectMessageSenderInit, components: DirectMessageSenderComponents) {
    this.#init = init
    this.#c = components
  }

  async start(): Promise<void> {
    this.#running = true
    const waiting = await this.#c.store.outbox()
    this.#outboxCount = waiting.length
    this.#c.net.addEventListener('peer:connect', this.#onConnect)
    for (const to of new Set(waiting.filter((e) => e.failed !== true).map((e) => e.to))) this.#schedule(to, 0)
  }

  async stop(): Promise<void> {
    this.#running = false
    this.#c.net.removeEventListener('peer:connect', this.#onConnect)
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
    await Promise.allSettled([...this.#flushes.values()].flatMap((f) => [f.running, f.again]))
  }

  /** Set (or clear) where messages for unreachable recipients are deposited. */
  setFallback(fallback: DirectMessageFallback | undefined): void {
    this.#fallback = fallback
  }

  async #connectedTo(peerId: string): Promise<boolean> {
    return (await this.#c.net.connections().catch(() => [])).some((c) => c.peerId === peerId)
  }

  /** Seal, queue and try to deliver at once. Resolves once delivered, refused or queued. */
  async send(to: string, body: Uint8Array, type: string): Promise<SendResult> {
    if (body.length > this.#init.maxBodyBytes) {
      throw new InvalidInputError(
        `message body of ${body.length} bytes exceeds the limit of ${this.#init.maxBodyBytes}`,
      )
    }
    const recipientKey = this.#c.net.publicKeyOf(to)
    if (to === this.#c.signer.peerId) throw new InvalidInputError('cannot send a direct message to yourself')
    const revoked = this.#c.identities.revocation(to)
    if (revoked !== undefined) throw new InvalidInputError(`not sent: ${revocationReason(to, revoked)}`)
    // The slot is taken before the first await, so concurrent sends cannot pass the cap together.
    if (this.#outboxCount >= this.#init.outboxCap) {
      throw new OutboxFullError(
        `the outbox holds ${this.#outboxCount} messages (messaging.outboxCap); wait for deliveries`,
      )
    }
    this.#outboxCount++
    // Waiting before the entry exists: a flush already running may pick it up and must say how it went.
    const id = newMessageId()
    this.#waiting.add(id)
    let entry: OutboxEntry
    try {
      entry = await this.#locks.run(to, () => this.#enqueue(id, to, body, type, recipientKey))
    } catch (err) {
      this.#outboxCount--
      this.#waiting.delete(id)
      throw err
    }
    try {
      await this.#flush(to)
      let outcome = this.#outcomes.get(entry.id) ?? { status: 'queued' }
      // The stream was cut under it (a relayed connection closed as a direct one came): tried
      // again at once, on whatever connection the peer has now, instead of at the next retry.
      if (outcome.status === 'queued' && outcome.cut === true && (await this.#connectedTo(to))) {
        this.#outcomes.delete(entry.id)
        await this.#flush(to)
        outcome = this.#outcomes.get(entry.id) ?? { status: 'queued' }
      }
      const result: SendResult = { id: entry.id, to, seq: entry.seq, status: outcome.status }
      if (outcome.error !== undefined) result.error = outcome.error
      if (outcome.mailbox !== undefined) result.mailbox = outcome.mailbox
      if (outcome.status === 'queued') this.#c.emit('dm:queued', { id: entry.id, to, seq: entry.seq })
      return result
    } finally {
      this.#waiting.delete(entry.id)
      this.#outcomes.delete(entry.id)
    }
  }

  /** Waiting messages, opened from the sender's own sealed copy. */
  async outbox(): Promise<OutboxView[]> {
    const entries = await this.#c.store.outbox()
    return entries.map((e) => {
      const { envelope: _e, selfCopy: _s, ...meta } = e
      try {
        const copy = this.#openSelfCopy(e.selfCopy)
        return { ...meta, type: copy.type, body: copy.body }
      } catch {
        // Written by an earlier format: still listed (and still counted), without its text.
        return { ...meta, type: 'application/octet-stream', body: new Uint8Array(0) }
      }
    })
  }

  /** Called under the recipient's lock: number, seal and store one message. */
  async #enqueue(
    id: string,
    to: string,
    body: Uint8Array,
    type: string,
    recipientKey: Uint8Array,
  ): Promise<OutboxEntry> {
    const seq = (await this.#c.store.lastSeq(to)) + 1
    const self = this.#c.signer.peerId
    const heads = this.#c.identities.ownHeads()
    const message: DirectMessage = { id, from: self, to, seq, time: Date.now(), type, body, ...(heads && { heads }) }
    const entry: OutboxEntry = {
      id: message.id,
      to,
      seq,
      createdAt: message.time,
      envelope: await sealDirectMessage(message, this.#c.signer, recipientKey),
      selfCopy: this.#c.identities.vault.seal(cbor.encode({ type, body }), OUTBOX_PURPOSE),
      attempts: 0,
    }
    await this.#c.store.enqueue(entry)
    return entry
  }

  /** The sender's copy, sealed under the identity's data key: any current device of the person can read it. */
  #openSelfCopy(bytes: Uint8Array): { type: string; body: Uint8Array } {
    const copy = cbor.decode(this.#c.identities.vault.open(bytes, OUTBOX_PURPOSE)) as { type?: unknown; body?: unknown }
    if (typeof copy.type !== 'string' || !(copy.body instanceof Uint8Array))
      throw new InvalidInputError('bad outbox copy')
    return { type: copy.type, body: copy.body }
  }

  readonly #onConnect = (evt: CustomEvent<{ peerId: string }>): void => {
    if (this.#timers.has(evt.detail.peerId)) this.#schedule(evt.detail.peerId, 0)
  }

  #schedule(to: string, delayMs: number): void {
    if (!this.#running) return
    clearTimeout(this.#timers.get(to))
    const timer = setTimeout(() => {
      this.#timers.delete(to)
      void this.#flush(to)
    }, delayMs)
    timer.unref()
    this.#timers.set(to, timer)
  }

  /**
   * Deliver a recipient's queue. Resolves when a flush that started after this call has ended,
   * so it has seen every entry written before the call.
   */
  #flush(to: string): Promise<void> {
    const current = this.#flushes.get(to)
    if (current !== undefined) {
      current.again ??= current.running.then(() => {
        this.#flushes.delete(to)
        return this.#flush(to)
      })
      return current.again
    }
    const running = this.#deliver(to)
      .catch((err) => this.#c.log.warn('direct-message flush failed', { to, ...errorFields(err) }))
      .finally(() => {
        if (this.#flushes.get(to)?.again === undefined) this.#flushes.delete(to)
      })
    this.#flushes.set(to, { running })
    return running
  }

  async #deliver(to: string): Promise<void> {
    if (!this.#running) return // stopping: what is queued stays queued
    const queue = (await this.#c.store.outbox(to)).filter((e) => e.failed !== true)
    if (queue.length === 0) return
    const revoked = this.#c.identities.revocation(to)
    if (revoked !== undefined) {
      // Removed from its identity after these were queued: it gets nothing more.
      const error = `recipient removed: ${revocationReason(to, revoked)}`
      for (const entry of queue) {
        await this.#c.store.putOutbox({ ...entry, lastError: error, failed: true })
        this.#record(entry, { status: 'failed', error })
        this.#c.emit('dm:failed', { id: entry.id, to, seq: entry.seq, error })
      }
      return
    }
    let retryReason: string | undefined
    let retryAfterMs: number | undefined
    let stream: ProtocolStream | undefined
    const handled = new Set<string>()
    const record = (entry: OutboxEntry, outcome: Outcome) => {
      handled.add(entry.id)
      this.#record(entry, outcome)
    }
    /** The entry on the wire: the only one an error can leave undelivered. */
    let current: OutboxEntry | undefined = queue[0]
    try {
      stream = await this.#c.net.openStream(to, DM_PROTOCOL, {
        signal: AbortSignal.timeout(this.#init.openTimeoutMs ?? DEFAULT_DM_OPEN_TIMEOUT_MS),
      })
      const acks = readFrames(stream, DM_ACK_MAX_BYTES)[Symbol.asyncIterator]()
      for (const entry of queue) {
        current = entry
        const ack = await this.#exchange(stream, acks, entry)
        if (ack.ok) {
          await this.#c.store.deleteOutbox(to, entry.seq)
          current = undefined
          this.#outboxCount--
          record(entry, { status: 'delivered' })
          this.#c.emit('dm:delivered', { id: entry.id, to, seq: entry.seq, duplicate: ack.duplicate === true })
          continue
        }
        const error = `${ack.code ?? 'refused'}${ack.error === undefined ? '' : `: ${ack.error}`}`
        if (RETRYABLE.has(ack.code ?? '')) {
          await this.#c.store.putOutbox({ ...entry, attempts: entry.attempts + 1, lastError: error })
          current = undefined
          record(entry, { status: 'queued', error })
          retryReason = error
          if (typeof ack.retryAfterMs === 'number') {
            retryAfterMs = Math.min(ack.retryAfterMs, this.#init.retryAfterMaxMs ?? DM_RETRY_AFTER_MAX_MS)
          }
          break
        }
        await this.#c.store.putOutbox({ ...entry, attempts: entry.attempts + 1, lastError: error, failed: true })
        current = undefined
        record(entry, { status: 'failed', error })
        this.#c.emit('dm:failed', { id: entry.id, to, seq: entry.seq, error })
      }
      await stream.close().catch(() => {})
    } catch (err) {
      stream?.abort(err instanceof Error ? err : new Error(String(err)))
      retryReason = (err as Error).message
      if (stream === undefined) {
        const deposit = await this.#depositAll(to, queue, record)
        if (deposit.all) {
          this.#backoff.delete(to)
          return
        }
        if (deposit.error !== undefined) retryReason = `${retryReason}; no mailbox took it: ${deposit.error}`
      }
      // Only the entry that was on the wire (unless a mailbox took it): those acknowledged before it are gone for good.
      if (current !== undefined && !handled.has(current.id)) {
        await this.#c.store.putOutbox({ ...current, attempts: current.attempts + 1, lastError: retryReason })
        record(current, {
          status: 'queued',
          error: retryReason,
          cut: stream !== undefined && isStreamTeardownError(err),
        })
      }
    }
    // Entries behind the one that stopped the flush wait for the same reason.
    for (const entry of queue) {
      if (!handled.has(entry.id)) record(entry, { status: 'queued', error: retryReason })
    }
    if (retryReason === undefined) {
      this.#backoff.delete(to)
      return
    }
    if (retryAfterMs !== undefined) {
      // The recipient said when it will take more: no need to back off further than that.
      this.#schedule(to, Math.max(50, retryAfterMs))
      return
    }
    const previous = this.#backoff.get(to) ?? 0
    const min = this.#init.retryMinMs ?? DM_RETRY_MIN_MS
    const delay = Math.min(this.#init.retryMaxMs ?? DM_RETRY_MAX_MS, previous === 0 ? min : previous * 2)
    this.#backoff.set(to, delay)
    this.#c.log.debug('direct message not delivered, retrying', { to, delayMs: delay, reason: retryReason })
    this.#schedule(to, Math.round(delay * (0.8 + Math.random() * 0.4)))
  }

  /**
   * The recipient could not be reached: hand its waiting messages to the fallback (a mailbox).
   * True when it took them all; what it did not take stays queued.
   */
  async #depositAll(
    to: string,
    queue: OutboxEntry[],
    record: (e: OutboxEntry, o: Outcome) => void,
  ): Promise<{ all: boolean; error?: string }> {
    const fallback = this.#fallback
    if (fallback === undefined) return { all: false }
    let result: { taken: number; mailbox?: string; error?: string }
    try {
      result = await fallback.deposit(to, queue)
    } catch (err) {
      this.#c.log.debug('no mailbox took the messages', { to, ...errorFields(err) })
      return { all: false, error: (err as Error).message }
    }
    const taken = queue.slice(0, Math.max(0, Math.min(result.taken, queue.length)))
    for (const entry of taken) {
      await this.#c.store.deleteOutbox(to, entry.seq)
      this.#outboxCount--
      const outcome: Outcome = {
        status: 'deposited',
        ...(result.mailbox === undefined ? {} : { mailbox: result.mailbox }),
      }
      record(entry, outcome)
      this.#c.emit('dm:deposited', { id: entry.id, to, seq: entry.seq, mailbox: result.mailbox })
    }
    const all = taken.length === queue.length
    return all || result.error === undefined ? { all } : { all, error: result.error }
  }

  /** Write one envelope and read its ack, both within the ack deadline. */
  async #exchange(stream: ProtocolStream, acks: AsyncIterator<Uint8Array>, entry: OutboxEntry): Promise<Ack> {
    const ms = this.#init.ackTimeoutMs ?? DEFAULT_DM_ACK_TIMEOUT_MS
    const deadline = AbortSignal.timeout(ms)
    const late = () => new TimeoutError(`no acknowledgement within ${ms} ms`)
    try {
      await stream.write(encodeFrame(entry.envelope), { signal: deadline })
    } catch (err) {
      throw deadline.aborted ? late() : err
    }
    const next = await raceAbort(acks.next(), deadline, late)
    if (next.done === true) throw new Error('recipient closed the stream without an acknowledgement')
    return decodeAck(next.value)
  }

  /** Only sends still waiting need to know; anything else would grow without bound. */
  #record(entry: OutboxEntry, outcome: Outcome): void {
    if (this.#waiting.has(entry.id)) this.#outcomes.set(entry.id, outcome)
  }
}
