/**
 * The sender side (messaging's outbox fallback): when a device cannot be reached, its waiting
 * envelopes go to a mailbox of its identity, as the identity's signed profile names them
 * (`identity.mailboxesOf`). Mailboxes are tried one after the other, connected ones first; the
 * first that takes any keeps them, and the outbox is told how many of the first it took (what
 * it did not take stays queued and is tried again later, directly first).
 *
 * Deposit exchange: the request, the mailbox's answer, then one envelope at a time, each
 * answered; the first refused one ends it (the rest would come out of order).
 */
import { MAILBOX_CONTROL_MAX_BYTES, MAILBOX_PROTOCOL } from '../core/constants.ts'
import { MailboxRefusedError } from '../core/errors.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import type { Net, ProtocolStream } from '../net/index.ts'
import { channel } from './channel.ts'
import type { DepositFallback, MailboxIdentity, WaitingEnvelopes } from './seams.ts'
import { type Answer, decodeAnswer, encode } from './wire.ts'

export interface DepositorInit {
  openTimeoutMs: number
  idleTimeoutMs: number
}

export interface DepositorComponents {
  net: Pick<Net, 'peerId' | 'openStream' | 'connections'>
  identity: MailboxIdentity
  /** Deposit with this node itself, when it is one of the identity's mailboxes: how many it took. */
  depositHere(identity: string, device: string, envelopes: WaitingEnvelopes): Promise<number>
  log: Logger
}

export class Depositor implements DepositFallback {
  readonly #init: DepositorInit
  readonly #c: DepositorComponents

  constructor(init: DepositorInit, components: DepositorComponents) {
    this.#init = init
    this.#c = components
  }

  async deposit(to: string, envelopes: WaitingEnvelopes): Promise<{ taken: number; mailbox?: string; error?: string }> {
    if (envelopes.length === 0) return { taken: 0 }
    const identity = this.#c.identity.identityOf(to)
    if (identity === undefined) return { taken: 0, error: `no identity is known here for device ${to}` }
    const errors: string[] = []
    const tried = new Set<string>([to])
    const first = await this.#depositAny(identity, to, envelopes, tried, errors)
    if (first !== undefined) return first
    // None took them: a connected peer may know mailboxes this node's copy of the log lacks (one
    // named just before the person's devices went away). Tried again whatever refresh answers:
    // the log may also have arrived meanwhile by an announcement.
    await this.#c.identity.refresh(identity)
    const second = await this.#depositAny(identity, to, envelopes, tried, errors)
    if (second !== undefined) return second
    if (tried.size === 1) return { taken: 0, error: `identity ${identity} names no mailbox` }
    return { taken: 0, error: errors.join('; ') }
  }

  /** Try the identity's mailboxes not tried yet, connected ones first; the first that takes any wins. */
  async #depositAny(
    identity: string,
    to: string,
    envelopes: WaitingEnvelopes,
    tried: Set<string>,
    errors: string[],
  ): Promise<{ taken: number; mailbox: string } | undefined> {
    const mailboxes = (this.#c.identity.mailboxesOf(identity) ?? []).filter((m) => !tried.has(m))
    for (const mailbox of await this.#connectedFirst(mailboxes)) {
      tried.add(mailbox)
      try {
        const taken =
          mailbox === this.#c.net.peerId
            ? await this.#c.depositHere(identity, to, envelopes)
            : await this.#depositAt(mailbox, identity, to, envelopes)
        if (taken > 0) return { taken, mailbox }
      } catch (err) {
        this.#c.log.debug('mailbox did not take the messages', { mailbox, to, ...errorFields(err) })
        errors.push(`${mailbox}: ${(err as Error).message}`)
      }
    }
    return undefined
  }

  async #connectedFirst(mailboxes: readonly string[]): Promise<string[]> {
    const connected = new Set((await this.#c.net.connections()).map((c) => c.peerId))
    return [...mailboxes].sort((a, b) => Number(connected.has(b)) - Number(connected.has(a)))
  }

  /** Deposit a prefix of `envelopes` at one mailbox; how many it took, or the refusal of the first. */
  async #depositAt(mailbox: string, identity: string, device: string, envelopes: WaitingEnvelopes): Promise<number> {
    let stream: ProtocolStream | undefined
    // Taken ones are held even if the stream fails later: the outbox must not send them again.
    let taken = 0
    try {
      stream = await this.#c.net.openStream(mailbox, MAILBOX_PROTOCOL, {
        signal: AbortSignal.timeout(this.#init.openTimeoutMs),
      })
      const ch = channel(stream, MAILBOX_CONTROL_MAX_BYTES, this.#init.idleTimeoutMs)
      const answer = async (): Promise<Answer> => {
        const frame = await ch.read('answer')
        if (frame === undefined) throw new Error('the mailbox closed the stream without an answer')
        return decodeAnswer(frame)
      }
      await ch.write(encode({ op: 'deposit', identity, device }))
      let refusal = await answer()
      if (refusal.ok) {
        for (const { envelope } of envelopes) {
          await ch.write(envelope)
          const a = await answer()
          if (!a.ok) {
            refusal = a
            break
          }
          taken++
        }
      }
      await stream.close().catch(() => {})
      if (taken === 0 && !refusal.ok) {
        throw new MailboxRefusedError(`${refusal.code}: ${refusal.error}`, refusal.code ?? 'refused')
      }
      return taken
    } catch (err) {
      stream?.abort(err instanceof Error ? err : new Error(String(err)))
      if (taken > 0 && !(err instanceof MailboxRefusedError)) return taken
      throw err
    }
  }
}
