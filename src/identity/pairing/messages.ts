/**
 * The messages of `/lateral/pair/1.0.0` (schemas/pairing.cddl): DAG-CBOR maps told apart by `t`.
 * Peer input: every decoder checks the type, the keys and each field's size, and throws
 * PairingProtocolError naming what is wrong and nothing else.
 */
import * as cbor from '@ipld/dag-cbor'
import { PairingProtocolError } from '../../core/errors.ts'
import { CODE_ID_BYTES, COMMITMENT_BYTES, KEY_BYTES, MAC_BYTES, NONCE_BYTES } from './transcript.ts'

/** Why a side ends a pairing, as told to the other side. */
export type AbortReason =
  | 'refused'
  | 'cancelled'
  | 'code-unknown'
  | 'code-used'
  | 'code-expired'
  | 'verification'
  | 'protocol'
  | 'timeout'
  | 'failed'

export type PairingMessage =
  /** Old device -> new: which code (its ID, not its secret) and a commitment to its key and nonce. */
  | { t: 'hello'; code: Uint8Array; commit: Uint8Array }
  /** New device -> old: its own commitment, sent before it has seen anything it could adapt to. */
  | { t: 'commit'; commit: Uint8Array }
  /** Both: the key and nonce committed to. */
  | { t: 'reveal'; key: Uint8Array; nonce: Uint8Array }
  /** Both: proof of the code's secret over the transcript (key confirmation). */
  | { t: 'mac'; mac: Uint8Array }
  /** Both: this side's person confirmed the short string (with a MAC only a holder of the secret makes). */
  | { t: 'confirm'; mac: Uint8Array }
  /** Old -> new, once both confirmed: the caller's opaque offer (may be empty). */
  | { t: 'offer'; payload: Uint8Array }
  /** New -> old, after the offer: the caller's opaque join payload. */
  | { t: 'join'; payload: Uint8Array }
  /** Old -> new, after the join: the caller's opaque welcome payload. */
  | { t: 'welcome'; payload: Uint8Array }
  /** New -> old: the welcome was taken. */
  | { t: 'done' }
  /** Either side, at any step: the pairing ends here, and nothing more is sent. */
  | { t: 'abort'; reason: AbortReason | string; message?: string }

export type MessageType = PairingMessage['t']

/** Longest abort `reason` and `message` read from a peer (characters). */
const MAX_REASON = 32
const MAX_MESSAGE = 300

const FIELDS: Record<MessageType, Record<string, number | 'payload' | 'text'>> = {
  hello: { code: CODE_ID_BYTES, commit: COMMITMENT_BYTES },
  commit: { commit: COMMITMENT_BYTES },
  reveal: { key: KEY_BYTES, nonce: NONCE_BYTES },
  mac: { mac: MAC_BYTES },
  confirm: { mac: MAC_BYTES },
  offer: { payload: 'payload' },
  join: { payload: 'payload' },
  welcome: { payload: 'payload' },
  done: {},
  abort: { reason: 'text', message: 'text' },
}

export function encodeMessage(message: PairingMessage): Uint8Array {
  return cbor.encode(Object.fromEntries(Object.entries(message).filter(([, v]) => v !== undefined)))
}

/** Decode one message; `maxPayloadBytes` bounds offer, join and welcome payloads. */
export function decodeMessage(bytes: Uint8Array, maxPayloadBytes: number): PairingMessage {
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch {
    throw new PairingProtocolError('pairing message is not DAG-CBOR')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new PairingProtocolError('pairing message is not a map')
  }
  const m = value as Record<string, unknown>
  const type = m.t
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type)) {
    throw new PairingProtocolError(`unknown pairing message type ${JSON.stringify(String(type).slice(0, 32))}`)
  }
  const fields = FIELDS[type as MessageType]
  for (const key of Object.keys(m)) {
    if (key !== 't' && !Object.hasOwn(fields, key)) throw new PairingProtocolError(`"${type}" has an unknown field`)
  }
  for (const [key, kind] of Object.entries(fields)) {
    const v = m[key]
    if (kind === 'text') {
      if (key === 'message' && v === undefined) continue
      const max = key === 'reason' ? MAX_REASON : MAX_MESSAGE
      if (typeof v !== 'string' || v.length > max) throw new PairingProtocolError(`bad "${type}.${key}"`)
    } else if (kind === 'payload') {
      if (!(v instanceof Uint8Array) || v.length > maxPayloadBytes) {
        throw new PairingProtocolError(`bad "${type}.${key}" (at most ${maxPayloadBytes} bytes)`)
      }
    } else if (!(v instanceof Uint8Array) || v.length !== kind) {
      throw new PairingProtocolError(`bad "${type}.${key}" (${kind} bytes)`)
    }
  }
  return m as unknown as PairingMessage
}
