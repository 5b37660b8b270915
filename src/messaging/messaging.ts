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
  DEFAULT_INBOX_CAP,
  DEFAULT_OUTBOX_CAP,
  DEFAULT_TOPIC_MAX_BYTES,
} from '../core/constants.ts'
import type { ComponentLogger } from '../core/logger.ts'
import type { DeviceKey } from '../identity/keystore.ts'
import type { Net } from '../net/index.ts'
import type { Datastore } from '../store/datastore.ts'
import { DirectMessages, type SendResult } from './direct-messages.ts'
import { DirectMessageStore, type InboxEntry, type OutboxEntry } from './dm-store.ts'
import { type ReceivedTopicMessage, type Topic, Topics } from './topics.ts'

export interface MessagingInit {
  topicMaxBytes?: number
  dmMaxBytes?: number
  inboxCap?: number
  outboxCap?: number
  dmBurst?: number
  dmPerMinute?: number
  /** Outbox retry backoff bounds (tests shorten them). */
  retryMinMs?: number
  retryMaxMs?: number
}

export interface MessagingComponents {
  net: Net
  datastore: Datastore
  key: DeviceKey
  logger: ComponentLogger
}

export interface MessagingEvents {
  'topic:message': CustomEvent<ReceivedTopicMessage>
  'dm:received': CustomEvent<InboxEntry>
  'dm:delivered': CustomEvent<{ id: string; to: string; seq: number; duplicate: boolean }>
  'dm:queued': CustomEvent<{ id: string; to: string; seq: number }>
  'dm:failed': CustomEvent<{ id: string; to: string; seq: number; error: string }>
}

export type OutboxView = Omit<OutboxEntry, 'envelope' | 'selfCopy'> & { type: string; body: Uint8Array }

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
  inbox(): Promise<InboxEntry[]>
  deleteFromInbox(ids?: string[]): Promise<number>
  outbox(): Promise<OutboxView[]>
  addEventListener<K extends keyof MessagingEvents>(type: K, listener: (evt: MessagingEvents[K]) => void): void
  removeEventListener<K extends keyof MessagingEvents>(type: K, listener: (evt: MessagingEvents[K]) => void): void
}

export function createMessaging(init: MessagingInit, components: MessagingComponents): Messaging {
  const events = new EventTarget()
  const emit = (type: string, detail: unknown) => events.dispatchEvent(new CustomEvent(type, { detail }))
  const log = components.logger.forComponent('lateral:messaging')
  const topics = new Topics(
    { maxMessageBytes: init.topicMaxBytes ?? DEFAULT_TOPIC_MAX_BYTES },
    { net: components.net, log, emit },
  )
  const dms = new DirectMessages(
    {
      maxBodyBytes: init.dmMaxBytes ?? DEFAULT_DM_MAX_BYTES,
      inboxCap: init.inboxCap ?? DEFAULT_INBOX_CAP,
      outboxCap: init.outboxCap ?? DEFAULT_OUTBOX_CAP,
      burst: init.dmBurst ?? DEFAULT_DM_BURST,
      perMinute: init.dmPerMinute ?? DEFAULT_DM_PER_MINUTE,
      ...(init.retryMinMs === undefined ? {} : { retryMinMs: init.retryMinMs }),
      ...(init.retryMaxMs === undefined ? {} : { retryMaxMs: init.retryMaxMs }),
    },
    { net: components.net, store: new DirectMessageStore(components.datastore), key: components.key, log, emit },
  )
  const TEXT = 'text/plain; charset=utf-8'
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
    send: (peerId, body, options = {}) =>
      dms.send(
        peerId,
        typeof body === 'string' ? new TextEncoder().encode(body) : body,
        options.type ?? (typeof body === 'string' ? TEXT : 'application/octet-stream'),
      ),
    inbox: () => dms.inbox(),
    deleteFromInbox: (ids) => dms.deleteFromInbox(ids),
    outbox: () => dms.outbox(),
    addEventListener: (type, listener) => events.addEventListener(type, listener as (evt: Event) => void),
    removeEventListener: (type, listener) => events.removeEventListener(type, listener as (evt: Event) => void),
  }
}
