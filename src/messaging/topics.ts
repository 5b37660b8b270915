/**
 * Topics: many-to-many messages over gossipsub, namespaced under `/lateral/topic/1/` so they
 * cannot collide with other libp2p applications. Every message is a signed record, verified
 * before it is delivered or forwarded; a peer that forwards invalid ones is penalised and leaves
 * meshes.
 */

import { TOPIC_NAMESPACE, TOPIC_READER_QUEUE } from '../core/constants.ts'
import { InvalidInputError } from '../core/errors.ts'
import { type IdentityDirectory, revocationReason } from '../core/identities.ts'
import type { Logger } from '../core/logger.ts'
import type { SignedRecord } from '../core/signed-record.ts'
import type { Signer } from '../core/signer.ts'
import type { Net, PubSubMessage, ValidationResult } from '../net/index.ts'
import {
  checkTopicName,
  decodeTopicMessage,
  isContentType,
  signTopicMessage,
  type TopicMessage,
} from './topic-message.ts'

export interface ReceivedTopicMessage {
  topic: string
  /** CID of the signed record (the gossip message's data): stable, the same on every peer. */
  id: string
  from: string
  time: number
  type: string
  body: Uint8Array
  receivedAt: number
}

/** A joined topic: iterate to read what arrives from now on; `leave()` ends the iteration. */
export interface Topic extends AsyncIterable<ReceivedTopicMessage> {
  readonly name: string
  publish(body: string | Uint8Array, options?: { type?: string }): Promise<{ recipients: number }>
  peers(): string[]
  leave(): void
}

export interface TopicsInit {
  maxMessageBytes: number
  /** Messages queued for one slow local reader before the oldest are dropped (TOPIC_READER_QUEUE). */
  readerQueue?: number
}

export interface TopicsComponents {
  net: Net
  /** Signs what this node publishes; its peer ID is the messages' `from`. */
  signer: Signer
  /** Removed devices' messages are refused (ignored, without penalising who relayed them). */
  identities: IdentityDirectory
  log: Logger
  emit(type: 'topic:message', detail: ReceivedTopicMessage): void
}

const TEXT = 'text/plain; charset=utf-8'

export const wireTopic = (name: string): string => `${TOPIC_NAMESPACE}${name}`

export class Topics {
  readonly #init: TopicsInit
  readonly #c: TopicsComponents
  /** Join count per topic name: the daemon and library handles share one subscription. */
  readonly #joins = new Map<string, number>()
  readonly #readers = new Map<string, Set<(m: ReceivedTopicMessage) => void>>()
  /** Records verified by the validator, so delivery does not verify the same bytes twice. */
  readonly #verified = new WeakMap<Uint8Array, SignedRecord<TopicMessage>>()

  constructor(init: TopicsInit, components: TopicsComponents) {
    this.#init = init
    this.#c = components
  }

  start(): void {
    this.#c.net.addEventListener('pubsub:message', this.#onMessage)
  }

  stop(): void {
    this.#c.net.removeEventListener('pubsub:message', this.#onMessage)
    for (const name of this.#joins.keys()) this.#unsubscribe(name)
    this.#joins.clear()
  }

  joined(): string[] {
    return [...this.#joins.keys()].sort()
  }

  join(name: string): void {
    checkTopicName(name)
    const n = this.#joins.get(name) ?? 0
    this.#joins.set(name, n + 1)
    if (n > 0) return
    const topic = wireTopic(name)
    this.#c.net.pubsub.setValidator(topic, (m) => this.#validate(m))
    this.#c.net.pubsub.subscribe(topic)
  }

  leave(name: string): void {
    const n = this.#joins.get(name) ?? 0
    if (n <= 1) {
      this.#joins.delete(name)
      if (n === 1) this.#unsubscribe(name)
    } else {
      this.#joins.set(name, n - 1)
    }
  }

  async publish(
    name: string,
    body: string | Uint8Array,
    type?: string,
  ): Promise<{ recipients: number; id: string; time: number; type: string }> {
    checkTopicName(name)
    const contentType = type ?? (typeof body === 'string' ? TEXT : 'application/octet-stream')
    if (!isContentType(contentType)) throw new InvalidInputError(`invalid content type ${JSON.stringify(contentType)}`)
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body
    const time = Date.now()
    const record = await signTopicMessage(this.#c.signer, {
      topic: name,
      from: this.#c.signer.peerId,
      time,
      type: contentType,
      body: bytes,
    })
    const data = record.bytes
    if (data.length > this.#init.maxMessageBytes) {
      throw new InvalidInputError(
        `message of ${data.length} bytes exceeds the topic limit of ${this.#init.maxMessageBytes}`,
      )
    }
    const { recipients } = await this.#c.net.pubsub.publish(wireTopic(name), data)
    return { recipients, id: record.cid.toString(), time, type: contentType }
  }

  peers(name: string): string[] {
    return this.#c.net.pubsub.subscribers(wireTopic(checkTopicName(name))).sort()
  }

  /** A joined topic handle; its iterator yields messages until `leave()`. */
  topic(name: string): Topic {
    this.join(name)
    const queue: ReceivedTopicMessage[] = []
    let wake: (() => void) | undefined
    let left = false
    const readers = this.#readers.get(name) ?? new Set()
    this.#readers.set(name, readers)
    const reader = (m: ReceivedTopicMessage) => {
      queue.push(m)
      // A reader that stops reading loses the oldest messages, never the node's memory.
      if (queue.length > (this.#init.readerQueue ?? TOPIC_READER_QUEUE)) queue.shift()
      wake?.()
    }
    readers.add(reader)
    const leave = () => {
      if (left) return
      left = true
      readers.delete(reader)
      this.leave(name)
      wake?.()
    }
    return {
      name,
      publish: (body, options = {}) => this.publish(name, body, options.type),
      peers: () => this.peers(name),
      leave,
      async *[Symbol.asyncIterator]() {
        try {
          while (!left) {
            const next = queue.shift()
            if (next !== undefined) {
              yield next
              continue
            }
            await new Promise<void>((resolve) => {
              wake = resolve
            })
            wake = undefined
          }
        } finally {
          leave()
        }
      },
    }
  }

  #unsubscribe(name: string): void {
    const topic = wireTopic(name)
    try {
      this.#c.net.pubsub.unsubscribe(topic)
      this.#c.net.pubsub.removeValidator(topic)
    } catch {
      // The network is already stopped.
    }
  }

  #validate(m: PubSubMessage): ValidationResult {
    try {
      const record = decodeTopicMessage(m.data, { maxBytes: this.#init.maxMessageBytes })
      if (record.payload.from !== m.from) throw new InvalidInputError('"from" is not the gossip signer')
      if (wireTopic(record.payload.topic) !== m.topic) throw new InvalidInputError('the record names another topic')
      const revoked = this.#c.identities.revocation(record.payload.from)
      if (revoked !== undefined) {
        // Relays may not know of the removal yet: dropped without a penalty.
        this.#c.log.info('refused a topic message from a removed device', {
          topic: m.topic,
          reason: revocationReason(record.payload.from, revoked),
        })
        return 'ignore'
      }
      this.#verified.set(m.data, record)
      return 'accept'
    } catch (err) {
      this.#c.net.penalize(m.propagationSource, 1, `invalid message on ${m.topic}: ${(err as Error).message}`)
      return 'reject'
    }
  }

  readonly #onMessage = (evt: CustomEvent<PubSubMessage>): void => {
    const m = evt.detail
    if (!m.topic.startsWith(TOPIC_NAMESPACE)) return
    const name = m.topic.slice(TOPIC_NAMESPACE.length)
    if (!this.#joins.has(name)) return
    // Validated by #validate before gossipsub delivers it; verified again only if the bytes are a copy.
    let record = this.#verified.get(m.data)
    if (record === undefined) {
      try {
        record = decodeTopicMessage(m.data, { maxBytes: this.#init.maxMessageBytes })
      } catch (err) {
        this.#c.log.debug('dropped an unverifiable topic message', { topic: m.topic, error: (err as Error).message })
        return
      }
    }
    const message: ReceivedTopicMessage = {
      topic: name,
      id: record.cid.toString(),
      from: record.payload.from,
      time: record.payload.time,
      type: record.payload.type,
      body: record.payload.body,
      receivedAt: Date.now(),
    }
    this.#c.emit('topic:message', message)
    for (const reader of this.#readers.get(name) ?? []) reader(message)
  }
}
