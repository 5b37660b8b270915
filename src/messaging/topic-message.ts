/**
 * The topic message (docs/protocols/topics.md, schemas/topic-message.cddl): the data of every
 * gossipsub message on a Lateral topic is a signed record (core/signed-record.ts) of type
 * `lateral/topic@1.0.0` whose payload is `{ topic, from, time, type, body }`.
 *
 * Gossipsub also signs each message (StrictSign) with the publisher's key; the validator requires
 * the record's `from` (whose key signed the record) to be that gossip signer, so only the author
 * can publish its record, and the record stays verifiable once it leaves gossipsub (topic logs,
 * archives), with its CID as a stable ID.
 */
import { InvalidInputError } from '../core/errors.ts'
import { type SignedRecord, signRecord, verifyRecord } from '../core/signed-record.ts'
import { publicKeyFromPeerId, type Signer } from '../core/signer.ts'
import { checkCommonFields, checkKeys } from './fields.ts'

export { isContentType } from './fields.ts'

export const TOPIC_RECORD_TYPE = 'lateral/topic@1.0.0'

export interface TopicMessage {
  /** The user's topic name (not the gossipsub topic string): a record is bound to its topic. */
  topic: string
  from: string
  time: number
  type: string
  body: Uint8Array
}

const KEYS = ['body', 'from', 'time', 'topic', 'type']

/** Sign a topic message as its author; `message.from` must be the signer's peer ID. */
export async function signTopicMessage(signer: Signer, message: TopicMessage): Promise<SignedRecord<TopicMessage>> {
  if (message.from !== signer.peerId) throw new InvalidInputError('a topic message is signed by its author')
  const { topic, from, time, type, body } = message
  return signRecord(signer, { topic, from, time, type, body }, { type: TOPIC_RECORD_TYPE })
}

/**
 * Verify and decode a topic message. `maxBytes` is enforced before any decoding; the signature
 * is checked against the key in `from`; throws InvalidInputError only.
 */
export function decodeTopicMessage(
  bytes: Uint8Array,
  options: { maxBytes: number; now?: number },
): SignedRecord<TopicMessage> {
  return verifyRecord(bytes, {
    maxBytes: options.maxBytes,
    type: TOPIC_RECORD_TYPE,
    validate: (payload) => checkTopicMessage(payload, options.now),
    publicKeyOf: (m) => publicKeyFromPeerId(m.from),
  })
}

function checkTopicMessage(value: unknown, now?: number): TopicMessage {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new InvalidInputError('topic message is not a map')
  }
  const m = value as Record<string, unknown>
  checkKeys(m, KEYS, 'topic message')
  if (typeof m.topic !== 'string') throw new InvalidInputError('bad "topic"')
  checkTopicName(m.topic)
  checkCommonFields(m, now)
  return m as unknown as TopicMessage
}

/** Topic names users type: 1-100 characters of letters, digits, `.`, `_`, `-`. */
export function checkTopicName(name: string): string {
  if (typeof name !== 'string' || !/^[\p{L}\p{N}._-]{1,100}$/u.test(name)) {
    throw new InvalidInputError(
      `invalid topic name ${JSON.stringify(name)}: use 1-100 letters, digits, ".", "_" or "-"`,
    )
  }
  return name
}
