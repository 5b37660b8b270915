/**
 * The topic message schema (docs/protocols/topics.md): a DAG-CBOR map
 * `{ v: 1, from: <peer ID>, time: <ms since epoch>, type: <content type>, body: <bytes> }`.
 * Gossipsub signs the encoded bytes with the author's device key (StrictSign); the validator
 * below checks the size before decoding, then every field, then that `from` is the signer.
 */
import * as cbor from '@ipld/dag-cbor'
import { InvalidInputError } from '../core/errors.ts'
import { checkCommonFields, checkKeys } from './fields.ts'

export { isContentType } from './fields.ts'

export interface TopicMessage {
  v: 1
  from: string
  time: number
  type: string
  body: Uint8Array
}

const KEYS = ['body', 'from', 'time', 'type', 'v']

export function encodeTopicMessage(message: TopicMessage): Uint8Array {
  return cbor.encode({ v: 1, from: message.from, time: message.time, type: message.type, body: message.body })
}

/** Decode and check a topic message; `maxBytes` is enforced before any decoding. */
export function decodeTopicMessage(bytes: Uint8Array, options: { maxBytes: number; now?: number }): TopicMessage {
  if (bytes.length > options.maxBytes) {
    throw new InvalidInputError(`topic message of ${bytes.length} bytes exceeds the limit of ${options.maxBytes}`)
  }
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch (err) {
    throw new InvalidInputError(`topic message is not DAG-CBOR: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError('topic message is not a map')
  }
  const m = value as Record<string, unknown>
  checkKeys(m, KEYS, 'topic message')
  if (m.v !== 1) throw new InvalidInputError(`unsupported topic message version ${String(m.v)}`)
  checkCommonFields(m, options.now)
  return m as unknown as TopicMessage
}

/** Topic names users type: 1-100 characters of letters, digits, `.`, `_`, `-`. */
export function checkTopicName(name: string): string {
  if (!/^[\p{L}\p{N}._-]{1,100}$/u.test(name)) {
    throw new InvalidInputError(
      `invalid topic name ${JSON.stringify(name)}: use 1-100 letters, digits, ".", "_" or "-"`,
    )
  }
  return name
}
