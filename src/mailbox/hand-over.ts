/**
 * The mailbox side of a collection (docs/protocols/mailbox.md, "Hand-over"): the requester's
 * peer ID, authenticated by the connection, must be a current device of the identity it names;
 * it gets only the envelopes addressed to it, in deposit order, one at a time, each answered
 * by the device's ack before the next. An ok ack (stored, or had it already) or a final refusal
 * (`invalid`, `revoked`: it will never be taken) deletes the message here; anything else
 * (`inbox-full`) keeps it and ends the hand-over for now.
 *
 * One hand-over per device at a time: a new collection from the same device (say, after it
 * restarted while the mailbox still waits on the old stream) ends the old one first.
 */
import type { Logger } from '../core/logger.ts'
import type { ProtocolStream } from '../net/index.ts'
import type { Channel } from './channel.ts'
import type { MailKeeper } from './keeper.ts'
import type { MailIndex } from './mail-index.ts'
import type { MailStore } from './mail-store.ts'
import type { MailboxIdentity } from './seams.ts'
import { decodeAck, encode, encodeHandOver } from './wire.ts'

/** Device ack codes after which the envelope can never be taken: the mailbox deletes it. */
const FINAL = new Set(['invalid', 'revoked'])

export interface HandOverEvents {
  'mailbox:handed-over': { identity: string; device: string; messages: number; remaining: number }
}

export interface HandOverComponents {
  keeper: MailKeeper
  index: MailIndex
  store: MailStore
  identity: MailboxIdentity
  log: Logger
  emit<K extends keyof HandOverEvents>(type: K, detail: HandOverEvents[K]): void
}

export class HandOver {
  readonly #c: HandOverComponents
  readonly #sessions = new Map<string, { stream: ProtocolStream; done: Promise<void> }>()

  constructor(components: HandOverComponents) {
    this.#c = components
  }

  /** Serve a `collect` request for `identity` from the stream's remote peer. */
  async serve(ch: Channel, stream: ProtocolStream, identity: string): Promise<void> {
    const device = stream.remotePeer
    if (this.#c.identity.devicesOf(identity)?.includes(device) !== true) {
      await ch.write(
        encode({
          ok: false,
          code: 'not-a-device',
          error: `${device} is not a current device of identity ${identity} as this mailbox knows it`,
        }),
      )
      return
    }
    const key = `${identity}/${device}`
    const previous = this.#sessions.get(key)
    if (previous !== undefined) {
      previous.stream.abort(new Error('superseded by a new collection from the same device'))
      await previous.done
    }
    let finished!: () => void
    const done = new Promise<void>((resolve) => {
      finished = resolve
    })
    this.#sessions.set(key, { stream, done })
    let handed = 0
    try {
      handed = await this.#handOver(ch, identity, device)
    } finally {
      if (this.#sessions.get(key)?.done === done) this.#sessions.delete(key)
      finished()
      if (handed > 0) {
        const remaining = this.#c.index.messages(identity, device).length
        this.#c.log.debug('mail handed over', { identity, device, messages: handed, remaining })
        this.#c.emit('mailbox:handed-over', { identity, device, messages: handed, remaining })
      }
    }
  }

  async #handOver(ch: Channel, identity: string, device: string): Promise<number> {
    const live = () => this.#c.index.messages(identity, device).filter((m) => m.expiresAt > Date.now())
    await ch.write(encode({ ok: true, count: live().length }))
    let handed = 0
    let last = ''
    for (;;) {
      // Asked anew each time: mail deposited during the hand-over is handed over too.
      const next = live().find((m) => m.order > last)
      if (next === undefined) break
      last = next.order
      const envelope = await this.#c.store.envelope(next)
      if (envelope === undefined) {
        await this.#c.keeper.remove(next)
        continue
      }
      await ch.write(encodeHandOver({ envelope }))
      const reply = await ch.read('acknowledgement')
      if (reply === undefined) return handed
      const ack = decodeAck(reply)
      if (!ack.ok && !FINAL.has(ack.code ?? '')) break
      await this.#c.keeper.remove(next)
      handed++
    }
    await ch.write(encodeHandOver({ done: true, remaining: this.#c.index.messages(identity, device).length }))
    return handed
  }
}
