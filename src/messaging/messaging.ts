/**
 * The messaging service: topics (gossipsub) and end-to-end encrypted direct messages.
 *
 * @example
 * ```ts
 * const general = node.messaging.topic('general')
 * await general.publish('hello')
 * for await (const m of general) console.log(m.from, new TextDecoder().decode(m.body))
 *
 * const result = await node.messaging.send(peerId, 'hi')   // { status: 'delivered' | 'queued' }
 * ```
 */

import {
  DEFAULT_DM_BURST,
  DEFAULT_DM_MAX_BYTES,
  DEFAULT_DM_PER_MINUTE,
  DEFAULT_DM_SEEN_CAP,
  DEFAULT_DM_SEEN_PER_SENDER,
  DEFAULT_INBOX_CAP,
  DEFAULT_OUTBOX_CAP,
  DEFAULT_TOPIC_MAX_BYTES,
} from '../core/constants.ts'
import { InvalidInputError, NotFoundError } from '../core/errors.ts'
import type { IdentityDirectory } from '../core/identities.ts'
import type { ComponentLogger } from '../core/logger.ts'
import type { KeyAgreement, Signer } from '../core/signer.ts'
import type { Net } from '../net/index.ts'
import type { Datastore } from '../store/datastore.ts'
import { type Ack, type DirectMessageFallback, DirectMessages, type SendResult } from './direct-messages.ts'
import type { OutboxView } from './dm-sender.ts'
import { DirectMessageStore, type InboxEntry } from './dm-store.ts'
import { type ReceivedTopicMessage, type Topic, Topics } from './topics.ts'

/** Limits and deadlines; each defaults to the constant named in its comment (core/constants.ts). */
export interface MessagingInit {
  /** DEFAULT_TOPIC_MAX_BYTES */
  topicMaxBytes?: number
  /** Messages queued for one slow local topic reader: TOPIC_READER_QUEUE. */
  topicReaderQueue?: number
  /** DEFAULT_DM_MAX_BYTES */
  dmMaxBytes?: number
  /** DEFAULT_INBOX_CAP */
  inboxCap?: number
  /** DEFAULT_OUTBOX_CAP */
  outboxCap?: number
  /** DEFAULT_DM_BURST */
  dmBurst?: number
  /** DEFAULT_DM_PER_MINUTE */
  dmPerMinute?: number
  /** Outbox retry backoff bounds (tests shorten them): DM_RETRY_MIN_MS, DM_RETRY_MAX_MS. */
  retryMinMs?: number
  retryMaxMs?: number
  /** Longest wait a recipient's rate-limit answer can impose: DM_RETRY_AFTER_MAX_MS. */
  retryAfterMaxMs?: number
  /** Opening a stream to a recipient: DEFAULT_DM_OPEN_TIMEOUT_MS. */
  dmOpenTimeoutMs?: number
  /** From writing an envelope to reading its ack: DEFAULT_DM_ACK_TIMEOUT_MS. */
  dmAckTimeoutMs?: number
  /** Incoming DM stream idle: DEFAULT_DM_IDLE_TIMEOUT_MS. */
  dmIdleTimeoutMs?: number
  /** Incoming DM streams per connection: DEFAULT_DM_INBOUND_STREAMS. */
  dmInboundStreams?: number
  /** Seen records per sender: DEFAULT_DM_SEEN_PER_SENDER. */
  dmSeenPerSender?: number
  /** Seen records in all: DEFAULT_DM_SEEN_CAP. */
  dmSeenCap?: number
  /** Rate-limit buckets kept: DEFAULT_DM_RATE_LIMIT_PEERS. */
  dmRateLimitPeers?: number
}

/** What messaging uses. It never sees the device key: it signs and opens through these. */
/** A message to a person: how it went on each of their devices. */
export interface PersonSendResult {
  identity: string
  /** delivered: on every device; failed: on none; else queued (some wait in the outbox). */
  status: SendResult['status']
  devices: SendResult[]
}

export interface MessagingComponents {
  net: Net
  datastore: Datastore
  /** Signs topic messages and direct messages; its peer ID is this node's. */
  signer: Signer
  /** Opens direct messages sealed to this device. */
  keyAgreement: KeyAgreement
  logger: ComponentLogger
  /** Identities and removed devices: the identity service (or `deviceOnly`). */
  identity: IdentityDirectory
}

export interface MessagingEvents {
  'topic:message': CustomEvent<ReceivedTopicMessage>
  'dm:received': CustomEvent<InboxEntry>
  'dm:delivered': CustomEvent<{ id: string; to: string; seq: number; duplicate: boolean }>
  'dm:deposited': CustomEvent<{ id: string; to: string; seq: number; mailbox?: string }>
  'dm:queued': CustomEvent<{ id: string; to: string; seq: number }>
  'dm:failed': CustomEvent<{ id: string; to: string; seq: number; error: string }>
}

export type { OutboxView } from './dm-sender.ts'

export interface Messaging {
  start(): Promise<void>
  stop(): Promise<void>
  /** Join a topic and get a handle to read and publish. */
  topic(name: string): Topic
  join(name: string): void
  leave(name: string): void
  joined(): string[]
  publish(
    name: string,
    body: string | Uint8Array,
    options?: { type?: string },
  ): Promise<{ recipients: number; id: string; time: number; type: string }>
  topicPeers(name: string): string[]
  /** Send a direct message; resolves when delivered, or queued for retry when the peer is away. */
  send(peerId: string, body: string | Uint8Array, options?: { type?: string }): Promise<SendResult>
  /**
   * Send to a person: sealed to each current device of the identity (but this one), each through
   * its own outbox (order, retry), so a device offline now gets it when it is back.
   */
  sendToPerson(identity: string, body: string | Uint8Array, options?: { type?: string }): Promise<PersonSendResult>
  inbox(): Promise<InboxEntry[]>
  deleteFromInbox(ids?: string[]): Promise<number>
  outbox(): Promise<OutboxView[]>
  /**
   * Where messages wait when their recipient cannot be reached (the mailbox service sets it):
   * the outbox hands it a device's waiting envelopes instead of only retrying.
   */
  setFallback(fallback: DirectMessageFallback | undefined): void
  /**
   * An envelope a mailbox peer (`via`) held for this device, handed over on request: checked and
   * stored like one received directly; the ack says whether the mailbox may delete it.
   */
  receiveHandedOver(via: string, envelope: Uint8Array): Promise<Ack>
  addEventListener<K extends keyof MessagingEvents>(type: K, listener: (evt: MessagingEvents[K]) => void): void
  removeEventListener<K extends keyof MessagingEvents>(type: K, listener: (evt: MessagingEvents[K]) => void): void
}

export function createMessaging(init: MessagingInit, components: MessagingComponents): Messaging {
  const events = new EventTarget()
  const emit = (type: string, detail: unknown) => events.dispatchEvent(new CustomEvent(type, { detail }))
  const log = components.logger.forComponent('lateral:messaging')
  const identities = components.identity
  const topics = new Topics(
    {
      maxMessageBytes: init.topicMaxBytes ?? DEFAULT_TOPIC_MAX_BYTES,
      ...(init.topicReaderQueue === undefined ? {} : { readerQueue: init.topicReaderQueue }),
    },
    { net: components.net, signer: components.signer, identities, log, emit },
  )
  const dms = new DirectMessages(
    {
      maxBodyBytes: init.dmMaxBytes ?? DEFAULT_DM_MAX_BYTES,
      inboxCap: init.inboxCap ?? DEFAULT_INBOX_CAP,
      outboxCap: init.outboxCap ?? DEFAULT_OUTBOX_CAP,
      burst: init.dmBurst ?? DEFAULT_DM_BURST,
      perMinute: init.dmPerMinute ?? DEFAULT_DM_PER_MINUTE,
      ...defined({
        retryMinMs: init.retryMinMs,
        retryMaxMs: init.retryMaxMs,
        retryAfterMaxMs: init.retryAfterMaxMs,
        openTimeoutMs: init.dmOpenTimeoutMs,
        ackTimeoutMs: init.dmAckTimeoutMs,
        idleTimeoutMs: init.dmIdleTimeoutMs,
        inboundStreams: init.dmInboundStreams,
        rateLimitPeers: init.dmRateLimitPeers,
      }),
    },
    {
      net: components.net,
      store: new DirectMessageStore(components.datastore, {
        seenPerSender: init.dmSeenPerSender ?? DEFAULT_DM_SEEN_PER_SENDER,
        seenCap: init.dmSeenCap ?? DEFAULT_DM_SEEN_CAP,
      }),
      signer: components.signer,
      keyAgreement: components.keyAgreement,
      identities,
      log,
      emit,
    },
  )
  const TEXT = 'text/plain; charset=utf-8'
  const bytesOf = (body: string | Uint8Array) => (typeof body === 'string' ? new TextEncoder().encode(body) : body)
  const typeOf = (body: string | Uint8Array, type?: string) =>
    type ?? (typeof body === 'string' ? TEXT : 'application/octet-stream')
  return {
    async start() {
      topics.start()
      await dms.start()
    },
    async stop() {
      topics.stop()
      await dms.stop()
    },
    topic: (name) => topics.topic(name),
    join: (name) => topics.join(name),
    leave: (name) => topics.leave(name),
    joined: () => topics.joined(),
    publish: (name, body, options = {}) => topics.publish(name, body, options.type),
    topicPeers: (name) => topics.peers(name),
    send: (peerId, body, options = {}) => dms.send(peerId, bytesOf(body), typeOf(body, options.type)),
    async sendToPerson(identity, body, options = {}) {
      let devices = identities.devicesOf(identity)
      // Not known yet: a connected peer (the person's mailbox, say) may keep the log.
      if (devices === undefined) {
        await identities.refresh(identity)
        devices = identities.devicesOf(identity)
      }
      if (devices === undefined) {
        throw new NotFoundError(
          `identity ${identity} is not known here yet: no connected peer had its log; it arrives when one of its devices connects or announces it`,
        )
      }
      const targets = devices.filter((d) => d !== components.signer.peerId)
      if (targets.length === 0) throw new InvalidInputError(`identity ${identity} has no other device to send to`)
      const results = await Promise.all(
        targets.map((device) =>
          dms
            .send(device, bytesOf(body), typeOf(body, options.type))
            .catch((err: Error): SendResult => ({ id: '', to: device, seq: 0, status: 'failed', error: err.message })),
        ),
      )
      return { identity, status: summarise(results), devices: results }
    },
    inbox: () => dms.inbox(),
    deleteFromInbox: (ids) => dms.deleteFromInbox(ids),
    outbox: () => dms.outbox(),
    setFallback: (fallback) => dms.setFallback(fallback),
    receiveHandedOver: (via, envelope) => dms.receiveHandedOver(via, envelope),
    addEventListener: (type, listener) => events.addEventListener(type, listener as (evt: Event) => void),
    removeEventListener: (type, listener) => events.removeEventListener(type, listener as (evt: Event) => void),
  }
}

/** One word for a message to several devices: delivered to all, failed for all, else queued. */
function summarise(results: SendResult[]): SendResult['status'] {
  if (results.every((r) => r.status === 'delivered')) return 'delivered'
  if (results.every((r) => r.status === 'delivered' || r.status === 'deposited')) return 'deposited'
  if (results.every((r) => r.status === 'failed')) return 'failed'
  return 'queued'
}

/** The entries of `o` that are set (optional init fields must be absent, not undefined). */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>
  }
}
