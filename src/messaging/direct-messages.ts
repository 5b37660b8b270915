/**
 * `/lateral/dm/1.0.0`: the sender opens a stream and writes length-prefixed envelopes; the
 * recipient answers each with one acknowledgement, in order (docs/protocols/dm.md).
 * Undelivered messages wait in the sender's outbox, retried per recipient in order with
 * exponential backoff, and at once when the recipient connects.
 */
import * as cbor from '@ipld/dag-cbor'
import { DM_PROTOCOL, DM_RETRY_MAX_MS, DM_RETRY_MIN_MS } from '../core/constants.ts'
import { InvalidInputError, OutboxFullError } from '../core/errors.ts'
import { encodeFrame, readFrames } from '../core/framing.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import type { DeviceKey } from '../identity/keystore.ts'
import type { Net, ProtocolStream } from '../net/index.ts'
import { type DirectMessage, newMessageId, openDirectMessage, sealDirectMessage } from './dm-envelope.ts'
import type { DirectMessageStore, InboxEntry, OutboxEntry } from './dm-store.ts'
import { RateLimiter } from './rate-limit.ts'

export type AckCode = 'rate-limited' | 'inbox-full' | 'invalid'

export interface Ack {
  ok: boolean
  id?: string
  duplicate?: boolean
  code?: AckCode
  error?: string
  /** With `rate-limited`: when the recipient will take the next message. */
  retryAfterMs?: number
}

/** Codes after which the sender tries again later; anything else is final. */
const RETRYABLE = new Set<string>(['rate-limited', 'inbox-full'])

export interface DirectMessagesInit {
  maxBodyBytes: number
  inboxCap: number
  outboxCap: number
  burst: number
  perMinute: number
  retryMinMs?: number
  retryMaxMs?: number
}

export interface DirectMessagesComponents {
  net: Net
  store: DirectMessageStore
  key: DeviceKey
  log: Logger
  /** Called for each stored incoming message and each delivery. */
  emit(type: 'dm:received' | 'dm:delivered' | 'dm:queued' | 'dm:failed', detail: unknown): void
}

export interface SendResult {
  id: string
  to: string
  seq: number
  status: 'delivered' | 'queued' | 'failed'
  error?: string
}

export class DirectMessages {
  readonly #init: DirectMessagesInit
  readonly #c: DirectMessagesComponents
  readonly #limiter: RateLimiter
  readonly #flushing = new Map<string, Promise<void>>()
  readonly #timers = new Map<string, NodeJS.Timeout>()
  readonly #backoff = new Map<string, number>()
  #inboxCount = 0
  #outboxCount = 0
  #running = false

  constructor(init: DirectMessagesInit, components: DirectMessagesComponents) {
    this.#init = init
    this.#c = components
    this.#limiter = new RateLimiter(init.burst, init.perMinute)
  }

  async start(): Promise<void> {
    this.#running = true
    this.#inboxCount = await this.#c.store.inboxCount()
    const waiting = await this.#c.store.outbox()
    this.#outboxCount = waiting.length
    await this.#c.net.handle(DM_PROTOCOL, (stream) => this.#serve(stream), { maxInboundStreams: 32 })
    this.#c.net.addEventListener('peer:connect', this.#onConnect)
    for (const to of new Set(waiting.filter((e) => e.failed !== true).map((e) => e.to))) this.#schedule(to, 0)
  }

  async stop(): Promise<void> {
    this.#running = false
    this.#c.net.removeEventListener('peer:connect', this.#onConnect)
    for (const t of this.#timers.values()) clearTimeout(t)
    this.#timers.clear()
    await this.#c.net.unhandle(DM_PROTOCOL).catch(() => {})
    await Promise.allSettled(this.#flushing.values())
  }

  /** Seal, queue and try to deliver at once. Resolves once delivered or queued. */
  async send(to: string, body: Uint8Array, type: string): Promise<SendResult> {
    if (body.length > this.#init.maxBodyBytes) {
      throw new InvalidInputError(
        `message body of ${body.length} bytes exceeds the limit of ${this.#init.maxBodyBytes}`,
      )
    }
    const recipientKey = this.#c.net.publicKeyOf(to)
    if (to === this.#c.net.peerId) throw new InvalidInputError('cannot send a direct message to yourself')
    if (this.#outboxCount >= this.#init.outboxCap) {
      throw new OutboxFullError(
        `the outbox holds ${this.#outboxCount} messages (messaging.outboxCap); wait for deliveries`,
      )
    }
    const seq = await this.#c.store.nextSeq(to)
    const message: DirectMessage = {
      v: 1,
      id: newMessageId(),
      from: this.#c.net.peerId,
      to,
      seq,
      time: Date.now(),
      type,
      body,
    }
    const entry: OutboxEntry = {
      id: message.id,
      to,
      seq,
      createdAt: message.time,
      envelope: sealDirectMessage(message, this.#c.key.seed, recipientKey),
      selfCopy: sealDirectMessage({ ...message, to: this.#c.net.peerId }, this.#c.key.seed, this.#c.key.publicKey),
      attempts: 0,
    }
    await this.#c.store.putOutbox(entry)
    this.#outboxCount++
    await this.#flush(to)
    const queue = await this.#c.store.outbox(to)
    const left = queue.find((e) => e.id === message.id)
    if (left === undefined) return { id: message.id, to, seq, status: 'delivered' }
    if (left.failed === true) return { id: message.id, to, seq, status: 'failed', ...errorOf(left) }
    this.#c.emit('dm:queued', { id: message.id, to, seq })
    // A message behind an earlier one that could not go waits for the same reason.
    const blocking = queue.find((e) => e.failed !== true && e.lastError !== undefined)
    return {
      id: message.id,
      to,
      seq,
      status: 'queued',
      ...errorOf(left.lastError === undefined && blocking !== undefined ? blocking : left),
    }
  }

  /** Waiting messages, opened from the sender's own sealed copy. */
  async outbox(): Promise<Array<Omit<OutboxEntry, 'envelope' | 'selfCopy'> & { type: string; body: Uint8Array }>> {
    const entries = await this.#c.store.outbox()
    return entries.map((e) => {
      const copy = openDirectMessage(
        e.selfCopy,
        this.#c.net.peerId,
        this.#c.key.seed,
        (p) => this.#c.net.publicKeyOf(p),
        {
          maxBodyBytes: Number.MAX_SAFE_INTEGER,
          now: Number.MAX_SAFE_INTEGER,
        },
      )
      const { envelope: _e, selfCopy: _s, ...meta } = e
      return { ...meta, type: copy.type, body: copy.body }
    })
  }

  async inbox(): Promise<InboxEntry[]> {
    return this.#c.store.inbox()
  }

  async deleteFromInbox(ids?: string[]): Promise<number> {
    const n = await this.#c.store.deleteFromInbox(ids === undefined ? undefined : new Set(ids))
    this.#inboxCount = Math.max(0, this.#inboxCount - n)
    return n
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

  /** Deliver a recipient's queued messages in order; one flush per recipient at a time. */
  #flush(to: string): Promise<void> {
    const running = this.#flushing.get(to)
    if (running !== undefined) return running.then(() => this.#flush(to))
    const task = this.#deliver(to).finally(() => this.#flushing.delete(to))
    this.#flushing.set(to, task)
    return task
  }

  async #deliver(to: string): Promise<void> {
    const queue = (await this.#c.store.outbox(to)).filter((e) => e.failed !== true)
    if (queue.length === 0) return
    let retryReason: string | undefined
    let retryAfterMs: number | undefined
    let stream: ProtocolStream | undefined
    try {
      stream = await this.#c.net.openStream(to, DM_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
      const acks = readFrames(stream, 4096)[Symbol.asyncIterator]()
      for (const entry of queue) {
        await stream.write(encodeFrame(entry.envelope))
        const next = await acks.next()
        if (next.done === true) throw new Error('recipient closed the stream without an acknowledgement')
        const ack = decodeAck(next.value)
        if (ack.ok) {
          await this.#c.store.deleteOutbox(to, entry.seq)
          this.#outboxCount--
          this.#c.emit('dm:delivered', { id: entry.id, to, seq: entry.seq, duplicate: ack.duplicate === true })
          continue
        }
        const error = `${ack.code ?? 'refused'}${ack.error === undefined ? '' : `: ${ack.error}`}`
        if (RETRYABLE.has(ack.code ?? '')) {
          await this.#c.store.putOutbox({ ...entry, attempts: entry.attempts + 1, lastError: error })
          retryReason = error
          if (typeof ack.retryAfterMs === 'number' && ack.retryAfterMs >= 0)
            retryAfterMs = Math.min(ack.retryAfterMs, 60_000)
          break
        }
        await this.#c.store.putOutbox({ ...entry, attempts: entry.attempts + 1, lastError: error, failed: true })
        this.#c.emit('dm:failed', { id: entry.id, to, seq: entry.seq, error })
      }
      await stream.close().catch(() => {})
    } catch (err) {
      stream?.abort(err instanceof Error ? err : new Error(String(err)))
      retryReason = (err as Error).message
      const first = queue[0] as OutboxEntry
      await this.#c.store.putOutbox({ ...first, attempts: first.attempts + 1, lastError: retryReason })
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

  /** Serve one incoming stream: each envelope gets one acknowledgement, in order. */
  async #serve(stream: ProtocolStream): Promise<void> {
    const maxEnvelope = this.#init.maxBodyBytes + 4096
    try {
      for await (const frame of readFrames(stream, maxEnvelope)) {
        await stream.write(encodeFrame(cbor.encode(await this.#receive(stream.remotePeer, frame))))
      }
      await stream.close()
    } catch (err) {
      // Oversized or malformed framing: the peer is misbehaving; count it and drop the stream.
      this.#c.net.penalize(stream.remotePeer, 1, `bad ${DM_PROTOCOL} stream: ${(err as Error).message}`)
      this.#c.log.debug('direct-message stream refused', { peer: stream.remotePeer, ...errorFields(err) })
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  async #receive(source: string, frame: Uint8Array): Promise<Ack> {
    const allowed = this.#limiter.take(source)
    if (!allowed.ok) {
      return {
        ok: false,
        code: 'rate-limited',
        error: 'too many messages, try later',
        retryAfterMs: allowed.retryAfterMs,
      }
    }
    let message: DirectMessage
    try {
      message = openDirectMessage(frame, this.#c.net.peerId, this.#c.key.seed, (p) => this.#c.net.publicKeyOf(p), {
        maxBodyBytes: this.#init.maxBodyBytes,
      })
    } catch (err) {
      this.#c.net.penalize(source, 1, `invalid direct message: ${(err as Error).message}`)
      return { ok: false, code: 'invalid', error: (err as Error).message }
    }
    if (await this.#c.store.seen(message.from, message.id)) return { ok: true, id: message.id, duplicate: true }
    if (this.#inboxCount >= this.#init.inboxCap) {
      return { ok: false, id: message.id, code: 'inbox-full', error: 'the recipient inbox is full' }
    }
    const entry: InboxEntry = { ...message, receivedAt: Date.now() }
    await this.#c.store.addToInbox(entry)
    this.#inboxCount++
    this.#c.emit('dm:received', entry)
    return { ok: true, id: message.id }
  }
}

function decodeAck(bytes: Uint8Array): Ack {
  const value = cbor.decode(bytes) as Ack
  if (typeof value !== 'object' || value === null || typeof value.ok !== 'boolean')
    throw new Error('malformed acknowledgement')
  return value
}

function errorOf(entry: OutboxEntry): { error?: string } {
  return entry.lastError === undefined ? {} : { error: entry.lastError }
}
