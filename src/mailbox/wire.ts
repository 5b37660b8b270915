/**
 * Messages of `/lateral/mailbox/1.0.0` (docs/protocols/mailbox.md, schemas/mailbox.cddl). Every
 * frame is length-prefixed (core/framing.ts); control frames are DAG-CBOR maps of at most
 * MAILBOX_CONTROL_MAX_BYTES, checked before decoding; envelopes are the sealed direct-message
 * envelopes as the sender's outbox holds them, at most the mailbox's envelope bound.
 *
 * ```
 * request  = { op: "deposit", identity, device }   ; sender -> mailbox, then envelopes
 *          / { op: "collect", identity }           ; device -> mailbox, then hand-over frames
 *          / { op: "notify", identity, count }     ; mailbox -> device: mail is waiting
 * answer   = { ok: true, ? count } / { ok: false, code, error }
 * handover = { envelope: bytes } / { done: true, remaining: uint }
 * ack      = { ok: bool, ? code }                  ; device -> mailbox, one per envelope
 * ```
 */
import * as cbor from '@ipld/dag-cbor'
import { MAILBOX_CONTROL_MAX_BYTES } from '../core/constants.ts'
import { InvalidInputError } from '../core/errors.ts'

/** Why a mailbox refused a deposit or a collection (the `code` of a refusing answer). */
export type RefusalCode =
  /** The mailbox holds no valid `/msg/deposit` grant from the identity. */
  | 'no-delegation'
  /** The device (deposit) or the requester (collect) is not a current device of the identity here. */
  | 'not-a-device'
  /** The envelope is addressed to another device than the deposit names, or is not an envelope. */
  | 'wrong-device'
  /** The identity's quota (bytes or messages) would be exceeded. */
  | 'quota'
  /** This sender already fills its share of the identity's quota. */
  | 'sender-share'
  /** The mailbox holds all it takes for everyone (`mailbox.maxBytes`, `mailbox.maxMessages`). */
  | 'full'
  | 'too-large'
  | 'malformed'

export type MailboxRequest =
  | { op: 'deposit'; identity: string; device: string }
  | { op: 'collect'; identity: string }
  | { op: 'notify'; identity: string; count: number }

export interface Answer {
  ok: boolean
  /** With `collect`: messages waiting for the device. */
  count?: number
  code?: RefusalCode
  error?: string
}

export type HandOverFrame = { envelope: Uint8Array } | { done: true; remaining: number }

/** The device's answer to one handed-over envelope: its direct-message ack, reduced. */
export interface HandOverAck {
  ok: boolean
  /** The ack's code when not ok (`invalid`, `revoked`, `inbox-full`, ...). */
  code?: string
}

/** Longest identity ID, peer ID, code or error text a control frame carries. */
const MAX_ID_CHARS = 128
const MAX_CODE_CHARS = 32
const MAX_ERROR_CHARS = 512
const CODES = new Set<string>([
  'no-delegation',
  'not-a-device',
  'wrong-device',
  'quota',
  'sender-share',
  'full',
  'too-large',
  'malformed',
])

export const encode = (value: MailboxRequest | Answer | HandOverAck): Uint8Array =>
  cbor.encode(Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)))

export function encodeHandOver(frame: HandOverFrame): Uint8Array {
  return cbor.encode(frame)
}

export function decodeRequest(bytes: Uint8Array): MailboxRequest {
  const m = decodeMap(bytes, MAILBOX_CONTROL_MAX_BYTES, 'request')
  switch (m.op) {
    case 'deposit':
      exactKeys(m, ['device', 'identity', 'op'], 'deposit request')
      return { op: 'deposit', identity: id(m.identity, 'identity'), device: id(m.device, 'device') }
    case 'collect':
      exactKeys(m, ['identity', 'op'], 'collect request')
      return { op: 'collect', identity: id(m.identity, 'identity') }
    case 'notify':
      exactKeys(m, ['count', 'identity', 'op'], 'notify request')
      return { op: 'notify', identity: id(m.identity, 'identity'), count: uint(m.count, 'count') }
    default:
      throw new InvalidInputError('mailbox: unknown request')
  }
}

export function decodeAnswer(bytes: Uint8Array): Answer {
  const m = decodeMap(bytes, MAILBOX_CONTROL_MAX_BYTES, 'answer')
  if (m.ok === true) {
    exactKeys(m, 'count' in m ? ['count', 'ok'] : ['ok'], 'answer')
    return 'count' in m ? { ok: true, count: uint(m.count, 'count') } : { ok: true }
  }
  if (m.ok !== false) throw new InvalidInputError('mailbox: bad answer "ok"')
  exactKeys(m, ['code', 'error', 'ok'], 'answer')
  if (typeof m.code !== 'string' || !CODES.has(m.code)) throw new InvalidInputError('mailbox: bad answer "code"')
  return { ok: false, code: m.code as RefusalCode, error: text(m.error, MAX_ERROR_CHARS, 'error') }
}

export function decodeHandOver(bytes: Uint8Array, maxEnvelopeBytes: number): HandOverFrame {
  const m = decodeMap(bytes, maxEnvelopeBytes + 64, 'hand-over frame')
  if ('envelope' in m) {
    exactKeys(m, ['envelope'], 'hand-over frame')
    if (!(m.envelope instanceof Uint8Array) || m.envelope.length > maxEnvelopeBytes) {
      throw new InvalidInputError('mailbox: bad "envelope"')
    }
    return { envelope: m.envelope }
  }
  exactKeys(m, ['done', 'remaining'], 'hand-over frame')
  if (m.done !== true) throw new InvalidInputError('mailbox: bad "done"')
  return { done: true, remaining: uint(m.remaining, 'remaining') }
}

export function decodeAck(bytes: Uint8Array): HandOverAck {
  const m = decodeMap(bytes, MAILBOX_CONTROL_MAX_BYTES, 'ack')
  exactKeys(m, 'code' in m ? ['code', 'ok'] : ['ok'], 'ack')
  if (typeof m.ok !== 'boolean') throw new InvalidInputError('mailbox: bad ack "ok"')
  if (m.code === undefined) return { ok: m.ok }
  return { ok: m.ok, code: text(m.code, MAX_CODE_CHARS, 'code') }
}

/**
 * The device a sealed direct-message envelope is addressed to (its outer `to`, which the DM
 * protocol shows in the clear and authenticates as the AEAD's associated data), or undefined
 * when the bytes are not such an envelope. Reads nothing sealed: a mailbox cannot.
 */
export function envelopeRecipient(bytes: Uint8Array): string | undefined {
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch {
    return undefined
  }
  if (!isMap(value)) return undefined
  const to = value.to
  return typeof to === 'string' && to.length > 0 && to.length <= MAX_ID_CHARS ? to : undefined
}

function decodeMap(bytes: Uint8Array, max: number, what: string): Record<string, unknown> {
  if (bytes.length > max) throw new InvalidInputError(`mailbox: ${what} of ${bytes.length} bytes is too large`)
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch {
    throw new InvalidInputError(`mailbox: ${what} is not DAG-CBOR`)
  }
  if (!isMap(value)) throw new InvalidInputError(`mailbox: ${what} is not a map`)
  return value
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}

function exactKeys(m: Record<string, unknown>, sorted: string[], what: string): void {
  if (Object.keys(m).sort().join() !== sorted.join()) {
    throw new InvalidInputError(`mailbox: ${what} has missing or extra fields`)
  }
}

function id(value: unknown, what: string): string {
  return text(value, MAX_ID_CHARS, what, /^[A-Za-z0-9]+$/)
}

function text(value: unknown, max: number, what: string, pattern?: RegExp): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max || (pattern && !pattern.test(value))) {
    throw new InvalidInputError(`mailbox: bad "${what}"`)
  }
  return value
}

function uint(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(`mailbox: bad "${what}"`)
  }
  return value
}
