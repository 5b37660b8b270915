/**
 * Incoming `/lateral/mailbox/1.0.0` streams: a deposit (from any sender, for an identity this
 * node holds a grant from), a collection (from a device of such an identity), or a notice that a
 * mailbox of this node's identity holds mail for it.
 *
 * Penalties (net.penalize) are for protocol violations only (malformed frames, oversized ones):
 * a refused deposit, a stream reset or cut off by the idle deadline costs nothing.
 */
import { InvalidInputError, TimeoutError } from '../core/errors.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import type { Net, ProtocolStream } from '../net/index.ts'
import { type Channel, channel } from './channel.ts'
import type { HandOver } from './hand-over.ts'
import type { MailKeeper } from './keeper.ts'
import { decodeRequest, encode, type MailboxRequest } from './wire.ts'

export interface MailboxServerInit {
  idleTimeoutMs: number
  /** Largest frame read: an envelope at the mailbox's bound. */
  maxEnvelopeBytes: number
}

export interface MailboxServerComponents {
  net: Pick<Net, 'penalize'>
  keeper: MailKeeper
  handOver: HandOver
  /** A mailbox says it holds mail for this node (the collector decides whether to believe it). */
  onNotify(from: string, identity: string): void
  /** Mail was deposited for `device`: tell it, if it is connected. */
  onDeposited(identity: string, device: string): void
  log: Logger
}

export class MailboxServer {
  readonly #init: MailboxServerInit
  readonly #c: MailboxServerComponents

  constructor(init: MailboxServerInit, components: MailboxServerComponents) {
    this.#init = init
    this.#c = components
  }

  async serve(stream: ProtocolStream): Promise<void> {
    const ch = channel(stream, this.#init.maxEnvelopeBytes, this.#init.idleTimeoutMs)
    try {
      const first = await ch.read('request')
      if (first !== undefined) await this.#dispatch(ch, stream, decodeRequest(first))
      await stream.close()
    } catch (err) {
      const fields = { peer: stream.remotePeer, ...errorFields(err) }
      if (err instanceof InvalidInputError) {
        this.#c.net.penalize(stream.remotePeer, 1, `bad mailbox stream: ${err.message}`)
        this.#c.log.debug('mailbox stream refused', fields)
      } else {
        this.#c.log.debug(err instanceof TimeoutError ? 'mailbox stream idle' : 'mailbox stream ended', fields)
      }
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  async #dispatch(ch: Channel, stream: ProtocolStream, request: MailboxRequest): Promise<void> {
    switch (request.op) {
      case 'deposit':
        return this.#deposit(ch, stream.remotePeer, request.identity, request.device)
      case 'collect':
        return this.#c.handOver.serve(ch, stream, request.identity)
      case 'notify':
        this.#c.onNotify(stream.remotePeer, request.identity)
        return
    }
  }

  /** Admit the deposit, then take envelopes one by one, answering each, until the sender ends. */
  async #deposit(ch: Channel, sender: string, identity: string, device: string): Promise<void> {
    const admission = await this.#c.keeper.admit(identity, device, sender)
    if ('code' in admission) {
      await ch.write(encode({ ok: false, ...admission }))
      return
    }
    await ch.write(encode({ ok: true }))
    let taken = 0
    try {
      for (let envelope = await ch.read('envelope'); envelope !== undefined; envelope = await ch.read('envelope')) {
        const answer = await this.#c.keeper.accept(admission, sender, envelope)
        await ch.write(encode(answer))
        if (answer.ok) taken++
      }
    } finally {
      if (taken > 0) this.#c.onDeposited(identity, device)
    }
  }
}
