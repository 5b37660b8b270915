/**
 * The acknowledgement a recipient writes for each direct-message envelope, in order
 * (docs/protocols/dm.md, `ack` in schemas/dm.cddl). Acks are peer input for the sender:
 * bounded and checked like any other.
 */
import * as cbor from '@ipld/dag-cbor'
import { InvalidInputError } from '../core/errors.ts'

/** `revoked`: the sender's device was removed from its identity; final, never retried. */
export type AckCode = 'rate-limited' | 'inbox-full' | 'invalid' | 'revoked'

export interface Ack {
  ok: boolean
  id?: string
  duplicate?: boolean
  code?: AckCode
  error?: string
  /** With `rate-limited`: when the recipient will take the next message. */
  retryAfterMs?: number
}

/** Largest ack frame a sender reads: an ack is a few fields and a short reason. */
export const DM_ACK_MAX_BYTES = 4096
const KEYS = new Set(['ok', 'id', 'duplicate', 'code', 'error', 'retryAfterMs'])

export function encodeAck(ack: Ack): Uint8Array {
  return cbor.encode(Object.fromEntries(Object.entries(ack).filter(([, v]) => v !== undefined)))
}

/** Decode an ack; InvalidInputError for anything that is not one (unknown fields included). */
export function decodeAck(bytes: Uint8Array): Ack {
  if (bytes.length > DM_ACK_MAX_BYTES) throw new InvalidInputError('acknowledgement is too large')
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch {
    throw new InvalidInputError('acknowledgement is not DAG-CBOR')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new InvalidInputError('acknowledgement is not a map')
  }
  const a = value as Record<string, unknown>
  if (Object.keys(a).some((k) => !KEYS.has(k))) throw new InvalidInputError('acknowledgement has unknown fields')
  if (typeof a.ok !== 'boolean') throw new InvalidInputError('acknowledgement has no "ok"')
  if (a.id !== undefined && typeof a.id !== 'string') throw new InvalidInputError('bad acknowledgement "id"')
  if (a.duplicate !== undefined && a.duplicate !== true) throw new InvalidInputError('bad acknowledgement "duplicate"')
  if (a.code !== undefined && typeof a.code !== 'string') throw new InvalidInputError('bad acknowledgement "code"')
  if (a.error !== undefined && typeof a.error !== 'string') throw new InvalidInputError('bad acknowledgement "error"')
  if (
    a.retryAfterMs !== undefined &&
    (typeof a.retryAfterMs !== 'number' || !Number.isSafeInteger(a.retryAfterMs) || a.retryAfterMs < 0)
  ) {
    throw new InvalidInputError('bad acknowledgement "retryAfterMs"')
  }
  return a as unknown as Ack
}
