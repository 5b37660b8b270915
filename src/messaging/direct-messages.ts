/**
 * `/lateral/dm/1.0.0`: the sender opens a stream and writes length-prefixed envelopes; the
 * recipient answers each with one acknowledgement, in order (docs/protocols/dm.md). This joins
 * the two sides: the outbox and its delivery (dm-sender.ts) and the inbox (dm-receiver.ts).
 */
import { DEFAULT_DM_INBOUND_STREAMS, DM_PROTOCOL } from '../core/constants.ts'
import type { IdentityDirectory } from '../core/identities.ts'
import type { Logger } from '../core/logger.ts'
import type { KeyAgreement, Signer } from '../core/signer.ts'
import type { Net } from '../net/index.ts'
import type { Ack } from './dm-ack.ts'
import { DirectMessageReceiver, type DirectMessageReceiverInit } from './dm-receiver.ts'
import {
  type DirectMessageFallback,
  DirectMessageSender,
  type DirectMessageSenderInit,
  type OutboxView,
  type SendResult,
} from './dm-sender.ts'
import type { DirectMessageStore, InboxEntry } from './dm-store.ts'

export type { Ack } from './dm-ack.ts'
export type { DirectMessageFallback, SendResult } from './dm-sender.ts'

export interface DirectMessagesInit extends DirectMessageSenderInit, DirectMessageReceiverInit {
  /** Incoming DM streams one connection may have open at once. */
  inboundStreams?: number
}

export interface DirectMessagesComponents {
  net: Net
  store: DirectMessageStore
  signer: Signer
  keyAgreement: KeyAgreement
  /** Who belongs to which identity, and which devices were removed (their messages are refused). */
  identities: IdentityDirectory
  log: Logger
  /** Called for each stored incoming message and each delivery. */
  emit(type: 'dm:received' | 'dm:delivered' | 'dm:deposited' | 'dm:queued' | 'dm:failed', detail: unknown): void
}

export class DirectMessages {
  readonly #init: DirectMessagesInit
  readonly #net: Net
  readonly #sender: DirectMessageSender
  readonly #receiver: DirectMessageReceiver

  constructor(init: DirectMessagesInit, components: DirectMessagesComponents) {
    this.#init = init
    this.#net = components.net
    this.#sender = new DirectMessageSender(init, components)
    this.#receiver = new DirectMessageReceiver(init, components)
  }

  async start(): Promise<void> {
    await this.#receiver.start()
    await this.#net.handle(DM_PROTOCOL, (stream) => this.#receiver.serve(stream), {
      maxInboundStreams: this.#init.inboundStreams ?? DEFAULT_DM_INBOUND_STREAMS,
    })
    await this.#sender.start()
  }

  async stop(): Promise<void> {
    await this.#net.unhandle(DM_PROTOCOL).catch(() => {})
    await this.#sender.stop()
  }

  send(to: string, body: Uint8Array, type: string): Promise<SendResult> {
    return this.#sender.send(to, body, type)
  }

  outbox(): Promise<OutboxView[]> {
    return this.#sender.outbox()
  }

  setFallback(fallback: DirectMessageFallback | undefined): void {
    this.#sender.setFallback(fallback)
  }

  /** An envelope a mailbox (`via`) held for this device: taken as if it had come directly. */
  receiveHandedOver(via: string, envelope: Uint8Array): Promise<Ack> {
    return this.#receiver.receive(via, envelope, { handedOver: true })
  }

  inbox(): Promise<InboxEntry[]> {
    return this.#receiver.inbox()
  }

  deleteFromInbox(ids?: string[]): Promise<number> {
    return this.#receiver.deleteFromInbox(ids)
  }
}
