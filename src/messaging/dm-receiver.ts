/**
 * The receiving side of `/lateral/dm/1.0.0`: each incoming envelope is opened, verified,
 * deduplicated and stored, and answered with one ack, in order.
 *
 * Penalties (net.penalize) are for protocol violations only: malformed or oversized framing,
 * an envelope that does not open or verify. A stream that is reset, aborted or cut off (peers
 * leave mid-exchange all the time) costs nothing; neither does one we close for idleness.
 */

import { DEFAULT_DM_IDLE_TIMEOUT_MS, DEFAULT_DM_RATE_LIMIT_PEERS } from '../core/constants.ts'
import { InvalidInputError, TimeoutError } from '../core/errors.ts'
import { encodeFrame, readFrames } from '../core/framing.ts'
import { type IdentityDirectory, revocationReason } from '../core/identities.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import { type KeyAgreement, publicKeyFromPeerId } from '../core/signer.ts'
import { TokenBuckets } from '../core/token-buckets.ts'
import type { Net, ProtocolStream } from '../net/index.ts'
import { type Ack, encodeAck } from './dm-ack.ts'
import { type DirectMessage, DM_ENVELOPE_OVERHEAD_BYTES, openDirectMessage } from './dm-envelope.ts'
import type { DirectMessageStore, InboxEntry } from './dm-store.ts'
import { idleTimeout } from './idle-timeout.ts'
import { KeyedMutex } from './keyed-mutex.ts'

export interface DirectMessageReceiverInit {
  maxBodyBytes: number
  inboxCap: number
  burst: number
  perMinute: number
  /** Sending peers whose rate-limit state is kept before idle ones are forgotten. */
  rateLimitPeers?: number
  /** An incoming stream that sends nothing for this long while we wait for it is closed. */
  idleTimeoutMs?: number
}

export interface DirectMessageReceiverComponents {
  net: Net
  store: DirectMessageStore
  keyAgreement: KeyAgreement
  identities: IdentityDirectory
  log: Logger
  emit(type: 'dm:received', detail: InboxEntry): void
}

export class DirectMessageReceiver {
  readonly #init: DirectMessageReceiverInit
  readonly #c: DirectMessageReceiverComponents
  readonly #limiter: TokenBuckets
  /** Per sender: the seen check and the store are one step, even across two streams. */
  readonly #locks = new KeyedMutex()
  #inboxCount = 0

  constructor(init: DirectMessageReceiverInit, components: DirectMessageReceiverComponents) {
    this.#init = init
    this.#c = components
    this.#limiter = new TokenBuckets(
      init.burst,
      init.perMinute / 60,
      init.rateLimitPeers ?? DEFAULT_DM_RATE_LIMIT_PEERS,
    )
  }

  async start(): Promise<void> {
    this.#inboxCount = await this.#c.store.inboxCount()
  }

  async inbox(): Promise<InboxEntry[]> {
    return this.#c.store.inbox()
  }

  async deleteFromInbox(ids?: string[]): Promise<number> {
    const n = await this.#c.store.deleteFromInbox(ids === undefined ? undefined : new Set(ids))
    this.#inboxCount = Math.max(0, this.#inboxCount - n)
    return n
  }

  /** Serve one incoming stream: each envelope gets one acknowledgement, in order. */
  async serve(stream: ProtocolStream): Promise<void> {
    const maxEnvelope = this.#init.maxBodyBytes + DM_ENVELOPE_OVERHEAD_BYTES
    const idleMs = this.#init.idleTimeoutMs ?? DEFAULT_DM_IDLE_TIMEOUT_MS
    let idle = false
    const source = idleTimeout(stream, idleMs, () => {
      idle = true
      stream.abort(new TimeoutError(`nothing received for ${idleMs} ms`))
    })
    try {
      for await (const frame of readFrames(source, maxEnvelope)) {
        const ack = await this.receive(stream.remotePeer, frame)
        // A sender that does not read its acks gets the same deadline as one that does not write.
        await stream.write(encodeFrame(encodeAck(ack)), { signal: AbortSignal.timeout(idleMs) })
      }
      await stream.close()
    } catch (err) {
      const fields = { peer: stream.remotePeer, ...errorFields(err) }
      if (!idle && err instanceof InvalidInputError) {
        this.#c.net.penalize(stream.remotePeer, 1, `bad direct-message framing: ${err.message}`)
        this.#c.log.debug('direct-message stream refused', fields)
      } else {
        this.#c.log.debug(idle ? 'direct-message stream closed: idle' : 'direct-message stream ended', fields)
      }
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /**
   * Take one envelope from `source`; returns the ack to send. `handedOver`: a mailbox that held
   * it hands it over because this device asked for its mail: not rate-limited (the device asked),
   * and a bad envelope does not count against the mailbox, which could not open it.
   */
  async receive(source: string, frame: Uint8Array, options: { handedOver?: boolean } = {}): Promise<Ack> {
    const handedOver = options.handedOver === true
    const allowed = handedOver ? { ok: true as const } : this.#limiter.tryTake(source)
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
      message = openDirectMessage(frame, this.#c.net.peerId, this.#c.keyAgreement, publicKeyFromPeerId, {
        maxBodyBytes: this.#init.maxBodyBytes,
      })
    } catch (err) {
      if (err instanceof InvalidInputError && !handedOver) {
        this.#c.net.penalize(source, 1, `invalid direct message: ${err.message}`)
      }
      return { ok: false, code: 'invalid', error: (err as Error).message }
    }
    // Heads first: a message from a current device may be what tells this node of a removal.
    if (message.heads !== undefined) this.#c.identities.observeHeads(message.from, message.heads, source)
    const revoked = this.#c.identities.revocation(message.from)
    if (revoked !== undefined) {
      const reason = revocationReason(message.from, revoked)
      this.#c.log.info('refused a direct message from a removed device', { from: message.from, reason })
      return { ok: false, id: message.id, code: 'revoked', error: reason }
    }
    return this.#locks.run(message.from, async (): Promise<Ack> => {
      if (await this.#c.store.seen.has(message.from, message.id)) return { ok: true, id: message.id, duplicate: true }
      if (this.#inboxCount >= this.#init.inboxCap) {
        return { ok: false, id: message.id, code: 'inbox-full', error: 'the recipient inbox is full' }
      }
      // Counted before the write, so messages from two senders at once cannot pass the cap together.
      this.#inboxCount++
      const identity = this.#c.identities.identityOf(message.from)
      const { heads: _heads, ...opened } = message
      const entry: InboxEntry = { ...opened, receivedAt: Date.now(), ...(identity === undefined ? {} : { identity }) }
      try {
        await this.#c.store.addToInbox(entry)
      } catch (err) {
        this.#inboxCount--
        throw err
      }
      this.#c.emit('dm:received', entry)
      return { ok: true, id: message.id }
    })
  }
}
