/**
 * Messages of `/lateral/identity/1.0.0` (docs/protocols/identity.md, "Sync"; schemas/identity.cddl):
 * one request from the asker, then the answer in frames, each bounded before decoding.
 *
 * ```
 * request = { t: "log", id: identity-id, ? have: [* cid] }      ; have: heads the asker holds (<= 64)
 * answer  = { t: "entries", entries: [* bytes], more: bool }    ; topological order, <= 256 per frame
 *         / { t: "unknown" }                                    ; the identity's log is not kept here
 * ```
 */
import * as cbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { InvalidInputError } from '../../core/errors.ts'

export const IDENTITY_PROTOCOL = '/lateral/identity/1.0.0'
/** Entries in one answer frame. */
export const SYNC_ENTRIES_PER_FRAME = 256
/** Heads an asker may name. */
export const SYNC_MAX_HAVE = 64
/** Largest frame: a full answer frame of entries at their size bound, with room for the framing. */
export const SYNC_MAX_FRAME_BYTES = SYNC_ENTRIES_PER_FRAME * 8 * 1024 + 4096
/** Largest entry the sync carries (the log refuses larger ones anyway). */
export const SYNC_MAX_ENTRY_BYTES = 8 * 1024

export interface LogRequest {
  t: 'log'
  id: string
  have?: string[]
}

export type LogAnswer = { t: 'entries'; entries: Uint8Array[]; more: boolean } | { t: 'unknown' }

export function encodeRequest(request: LogRequest): Uint8Array {
  return cbor.encode(request.have === undefined ? { t: 'log', id: request.id } : request)
}

export function encodeAnswer(answer: LogAnswer): Uint8Array {
  return cbor.encode(answer)
}

export function decodeRequest(bytes: Uint8Array): LogRequest {
  const m = decodeMap(bytes, 4096, 'request')
  exactKeys(m, ['t', 'id'], ['have'], 'request')
  if (m.t !== 'log') throw new InvalidInputError('identity sync: unknown request')
  const id = cidString(m.id, 'request "id"')
  if (m.have === undefined) return { t: 'log', id }
  if (!Array.isArray(m.have) || m.have.length > SYNC_MAX_HAVE) {
    throw new InvalidInputError(`identity sync: "have" must list at most ${SYNC_MAX_HAVE} CIDs`)
  }
  return { t: 'log', id, have: m.have.map((h) => cidString(h, 'a "have" entry')) }
}

export function decodeAnswer(bytes: Uint8Array): LogAnswer {
  const m = decodeMap(bytes, SYNC_MAX_FRAME_BYTES, 'answer')
  if (m.t === 'unknown') {
    exactKeys(m, ['t'], [], 'answer')
    return { t: 'unknown' }
  }
  if (m.t !== 'entries') throw new InvalidInputError('identity sync: unknown answer')
  exactKeys(m, ['t', 'entries', 'more'], [], 'answer')
  if (!Array.isArray(m.entries) || m.entries.length > SYNC_ENTRIES_PER_FRAME) {
    throw new InvalidInputError(`identity sync: at most ${SYNC_ENTRIES_PER_FRAME} entries per frame`)
  }
  for (const e of m.entries) {
    if (!(e instanceof Uint8Array) || e.length === 0 || e.length > SYNC_MAX_ENTRY_BYTES) {
      throw new InvalidInputError(`identity sync: an entry must be 1..${SYNC_MAX_ENTRY_BYTES} bytes`)
    }
  }
  if (typeof m.more !== 'boolean') throw new InvalidInputError('identity sync: "more" must be a boolean')
  return { t: 'entries', entries: m.entries as Uint8Array[], more: m.more }
}

function decodeMap(bytes: Uint8Array, max: number, what: string): Record<string, unknown> {
  if (bytes.length > max) throw new InvalidInputError(`identity sync: ${what} of ${bytes.length} bytes is too large`)
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch (err) {
    throw new InvalidInputError(`identity sync: ${what} is not DAG-CBOR: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new InvalidInputError(`identity sync: ${what} is not a map`)
  }
  return value as Record<string, unknown>
}

function exactKeys(m: Record<string, unknown>, required: string[], optional: string[], what: string): void {
  for (const k of required) if (!(k in m)) throw new InvalidInputError(`identity sync: ${what} lacks "${k}"`)
  for (const k of Object.keys(m)) {
    if (!required.includes(k) && !optional.includes(k)) {
      throw new InvalidInputError(`identity sync: ${what} has an unknown field "${k.slice(0, 32)}"`)
    }
  }
}

function cidString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > 128) throw new InvalidInputError(`identity sync: bad ${what}`)
  try {
    return CID.parse(value).toString()
  } catch {
    throw new InvalidInputError(`identity sync: ${what} is not a CID`)
  }
}
