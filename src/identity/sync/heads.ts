/**
 * Head announcements: each device publishes `{ id, heads }` (its identity ID and the CIDs of its
 * log's heads) on the gossip topic `/lateral/identity/heads/1`, at start, after every change of
 * its log, and every `announceIntervalMs`. Gossipsub signs each message with the author's key
 * (StrictSign), so the announcement says who claims to be a device of which identity; it is only
 * a hint: a peer that cares fetches the log from the author and verifies every entry.
 */
import * as cbor from '@ipld/dag-cbor'
import { InvalidInputError } from '../../core/errors.ts'
import { checkIdentityHeads, type IdentityHeads } from '../../core/identities.ts'
import type { Logger } from '../../core/logger.ts'
import type { Net, PubSubMessage, ValidationResult } from '../../net/index.ts'

export const HEADS_TOPIC = '/lateral/identity/heads/1'
const MAX_BYTES = 1024

/** What a device announces: its identity and its log's heads. */
export type HeadsAnnouncement = IdentityHeads

export function encodeHeads(a: HeadsAnnouncement): Uint8Array {
  return cbor.encode({ id: a.id, heads: [...a.heads].sort() })
}

export function decodeHeads(bytes: Uint8Array): HeadsAnnouncement {
  if (bytes.length > MAX_BYTES) throw new InvalidInputError('heads announcement is too large')
  let v: unknown
  try {
    v = cbor.decode(bytes)
  } catch {
    throw new InvalidInputError('heads announcement is not DAG-CBOR')
  }
  return checkIdentityHeads(v)
}

export interface HeadsComponents {
  net: Net
  log: Logger
  /**
   * A device (`from`, authenticated by gossipsub) announced heads of an identity; `via` is the
   * connected peer that forwarded it (it may hold the log too).
   */
  onHeads(from: string, announcement: HeadsAnnouncement, via: string): void
}

export class HeadsChannel {
  readonly #c: HeadsComponents

  constructor(components: HeadsComponents) {
    this.#c = components
  }

  start(): void {
    this.#c.net.pubsub.setValidator(HEADS_TOPIC, (m) => this.#validate(m))
    this.#c.net.pubsub.subscribe(HEADS_TOPIC)
    this.#c.net.addEventListener('pubsub:message', this.#onMessage)
  }

  stop(): void {
    this.#c.net.removeEventListener('pubsub:message', this.#onMessage)
    try {
      this.#c.net.pubsub.unsubscribe(HEADS_TOPIC)
      this.#c.net.pubsub.removeValidator(HEADS_TOPIC)
    } catch {
      // the network is already stopped
    }
  }

  async announce(a: HeadsAnnouncement): Promise<number> {
    try {
      return (await this.#c.net.pubsub.publish(HEADS_TOPIC, encodeHeads(a))).recipients
    } catch (err) {
      // No peer on the topic yet is not an error: the next announcement or a direct sync will do.
      this.#c.log.debug('heads not announced', { error: (err as Error).message })
      return 0
    }
  }

  #validate(m: PubSubMessage): ValidationResult {
    try {
      decodeHeads(m.data)
      return 'accept'
    } catch (err) {
      this.#c.net.penalize(m.propagationSource, 1, `invalid heads announcement: ${(err as Error).message}`)
      return 'reject'
    }
  }

  readonly #onMessage = (evt: CustomEvent<PubSubMessage>): void => {
    const m = evt.detail
    if (m.topic !== HEADS_TOPIC || m.from === this.#c.net.peerId) return
    try {
      this.#c.onHeads(m.from, decodeHeads(m.data), m.propagationSource)
    } catch (err) {
      this.#c.log.debug('dropped a heads announcement', { from: m.from, error: (err as Error).message })
    }
  }
}
