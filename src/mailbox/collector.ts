/**
 * The device side: collect this device's mail from its identity's mailboxes
 * (`identity.mailboxesOf(self)`, the identity's signed profile) at start (dialling them), on
 * connecting to one, when one says it holds mail, every `collectIntervalMs`, and when asked.
 * Each envelope handed over goes to `messaging.receiveHandedOver`, which checks and stores it
 * as if it had come directly; its ack goes back to the mailbox, which then deletes it.
 *
 * Only mailboxes the profile names are collected from: a handed-over envelope skips the
 * direct-message rate limit, so a peer that merely claims to hold mail gets nothing from us.
 * One collection per mailbox at a time; one asked for while one runs is run once after it.
 */
import { MAILBOX_PROTOCOL } from '../core/constants.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import type { Net, ProtocolStream } from '../net/index.ts'
import { channel } from './channel.ts'
import type { MailboxIdentity, MailboxMessaging } from './seams.ts'
import { decodeAnswer, decodeHandOver, encode } from './wire.ts'

/** One collection from one mailbox. */
export interface CollectResult {
  mailbox: string
  /** When it ended (ms since the epoch). */
  at: number
  /** Messages stored in the inbox. */
  received: number
  /** Messages the inbox had already (a hand-over whose ack was lost). */
  duplicates: number
  /** Messages refused for good (could not be opened or verified, or from a removed device): deleted at the mailbox. */
  refused: number
  /** Messages the mailbox still holds for this device when it ended, when it said. */
  remaining?: number
  /** Why it stopped early, or did not start. */
  error?: string
}

export interface CollectorInit {
  openTimeoutMs: number
  idleTimeoutMs: number
  collectIntervalMs: number
  maxEnvelopeBytes: number
}

export interface CollectorComponents {
  net: Pick<Net, 'peerId' | 'openStream' | 'addEventListener' | 'removeEventListener'>
  identity: MailboxIdentity
  messaging: Pick<MailboxMessaging, 'receiveHandedOver'>
  log: Logger
  emit(type: 'mailbox:collected', detail: CollectResult): void
}

export class Collector {
  readonly #init: CollectorInit
  readonly #c: CollectorComponents
  readonly #runs = new Map<string, { running: Promise<CollectResult>; again?: Promise<CollectResult> }>()
  readonly #last = new Map<string, CollectResult>()
  #timer: NodeJS.Timeout | undefined
  #started = false

  constructor(init: CollectorInit, components: CollectorComponents) {
    this.#init = init
    this.#c = components
  }

  start(): void {
    this.#started = true
    this.#c.net.addEventListener('peer:connect', this.#onConnect)
    this.#timer = setInterval(() => void this.collect(), this.#init.collectIntervalMs)
    this.#timer.unref()
    void this.collect()
  }

  async stop(): Promise<void> {
    this.#started = false
    this.#c.net.removeEventListener('peer:connect', this.#onConnect)
    clearInterval(this.#timer)
    this.#timer = undefined
    await Promise.allSettled([...this.#runs.values()].flatMap((r) => [r.running, r.again]))
  }

  /** This identity's mailboxes, this node excepted. */
  mailboxes(): string[] {
    const self = this.#c.identity.self()
    if (self === '') return []
    return (this.#c.identity.mailboxesOf(self) ?? []).filter((m) => m !== this.#c.net.peerId)
  }

  /** The last collection from each mailbox. */
  last(mailbox: string): CollectResult | undefined {
    return this.#last.get(mailbox)
  }

  /** Collect from every mailbox (or one) now. */
  collect(only?: string): Promise<CollectResult[]> {
    const targets = only === undefined ? this.mailboxes() : [only]
    return Promise.all(targets.map((m) => this.collectFrom(m)))
  }

  /** A mailbox says it holds mail for this identity: collect if it is one of ours. */
  onNotify(from: string, identity: string): void {
    if (identity === this.#c.identity.self() && this.mailboxes().includes(from)) void this.collectFrom(from)
  }

  /** Resolves with a collection that started after this call. */
  collectFrom(mailbox: string): Promise<CollectResult> {
    const current = this.#runs.get(mailbox)
    if (current !== undefined) {
      current.again ??= current.running.then(() => {
        this.#runs.delete(mailbox)
        return this.collectFrom(mailbox)
      })
      return current.again
    }
    const running = this.#collect(mailbox).finally(() => {
      if (this.#runs.get(mailbox)?.again === undefined) this.#runs.delete(mailbox)
    })
    this.#runs.set(mailbox, { running })
    return running
  }

  readonly #onConnect = (evt: CustomEvent<{ peerId: string }>): void => {
    if (this.mailboxes().includes(evt.detail.peerId)) void this.collectFrom(evt.detail.peerId)
  }

  async #collect(mailbox: string): Promise<CollectResult> {
    const result: CollectResult = { mailbox, at: 0, received: 0, duplicates: 0, refused: 0 }
    if (!this.#started) return { ...result, at: Date.now(), error: 'the mailbox service is stopped' }
    let stream: ProtocolStream | undefined
    try {
      stream = await this.#c.net.openStream(mailbox, MAILBOX_PROTOCOL, {
        signal: AbortSignal.timeout(this.#init.openTimeoutMs),
      })
      const ch = channel(stream, this.#init.maxEnvelopeBytes + 64, this.#init.idleTimeoutMs)
      await ch.write(encode({ op: 'collect', identity: this.#c.identity.self() }))
      const first = await ch.read('answer')
      if (first === undefined) throw new Error('the mailbox closed the stream without an answer')
      const answer = decodeAnswer(first)
      if (!answer.ok) throw new Error(`${answer.code}: ${answer.error}`)
      for (;;) {
        const bytes = await ch.read('hand-over frame')
        if (bytes === undefined) throw new Error('the mailbox ended the hand-over early')
        const frame = decodeHandOver(bytes, this.#init.maxEnvelopeBytes)
        if ('done' in frame) {
          result.remaining = frame.remaining
          break
        }
        const ack = await this.#c.messaging.receiveHandedOver(mailbox, frame.envelope)
        if (ack.ok && ack.duplicate === true) result.duplicates++
        else if (ack.ok) result.received++
        else if (ack.code === 'invalid' || ack.code === 'revoked') result.refused++
        await ch.write(encode(ack.code === undefined ? { ok: ack.ok } : { ok: ack.ok, code: ack.code }))
      }
      await stream.close().catch(() => {})
    } catch (err) {
      stream?.abort(err instanceof Error ? err : new Error(String(err)))
      result.error = (err as Error).message
      this.#c.log.debug('mail collection stopped', { mailbox, ...errorFields(err) })
    }
    result.at = Date.now()
    this.#last.set(mailbox, result)
    this.#c.emit('mailbox:collected', result)
    return result
  }
}
