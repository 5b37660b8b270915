/**
 * `/lateral/ledger/1.0.0` (docs/protocols/ledger.md, "Wire"): one request frame from the asker,
 * one answer frame back (varint length prefix, canonical DAG-CBOR, at most
 * LEDGER_FRAME_MAX_BYTES each; receipt halves are bytes, verified by the receiver).
 *
 * ```
 * request = { t: "propose", half: bytes }                     ; a proposal to the answerer
 *         / { t: "chain", from: uint, max: uint }             ; entries from seq `from`, at most `max`
 * answer  = { t: "agree", half: bytes }                       ; the answerer's agreement
 *         / { t: "refused", code: tstr, error: tstr, ? out: uint, ? in: uint }
 *         / { t: "page", length: uint, entries: [* { h: bytes, ? o: bytes }] }
 * ```
 *
 * Gossip: `/lateral/ledger/receipts/1` carries complete receipts `{ p: bytes, a: bytes }` from
 * their parties; `/lateral/ledger/forks/1` carries fork proofs `{ a: bytes, b: bytes }`.
 */
import * as cbor from '@ipld/dag-cbor'
import { LEDGER_FRAME_MAX_BYTES, LEDGER_PAGE_MAX, RECEIPT_MAX_BYTES } from '../core/constants.ts'
import { InvalidInputError } from '../core/errors.ts'

export const LEDGER_PROTOCOL = '/lateral/ledger/1.0.0'
export const RECEIPTS_TOPIC = '/lateral/ledger/receipts/1'
export const FORKS_TOPIC = '/lateral/ledger/forks/1'

/** Why an answerer refused a proposal (docs/protocols/ledger.md, "Refusals"). */
export const REFUSAL_CODES = [
  'busy',
  'stale',
  'rate-limited',
  'refused',
  'invalid',
  'parties',
  'counts',
  'fork',
  'unavailable',
] as const
export type RefusalCode = (typeof REFUSAL_CODES)[number]

export type LedgerRequest = { t: 'propose'; half: Uint8Array } | { t: 'chain'; from: number; max: number }

export interface ChainEntryBytes {
  /** The chain owner's half. */
  h: Uint8Array
  /** The counterparty's half, when the receipt is complete. */
  o?: Uint8Array
}

export type LedgerAnswer =
  | { t: 'agree'; half: Uint8Array }
  | { t: 'refused'; code: RefusalCode; error: string; out?: number; in?: number }
  | { t: 'page'; length: number; entries: ChainEntryBytes[] }

/** A complete receipt as gossiped: proposal and agreement. */
export interface ReceiptAnnouncement {
  p: Uint8Array
  a: Uint8Array
}

/** Two halves by one device with one sequence number and different content. */
export interface ForkProofBytes {
  a: Uint8Array
  b: Uint8Array
}

export function encodeMessage(
  message: LedgerRequest | LedgerAnswer | ReceiptAnnouncement | ForkProofBytes,
): Uint8Array {
  return cbor.encode(message)
}

export function decodeRequest(bytes: Uint8Array): LedgerRequest {
  const m = decodeMap(bytes, 'ledger request', LEDGER_FRAME_MAX_BYTES)
  if (m.t === 'propose') {
    keys(m, ['t', 'half'], [], 'propose')
    return { t: 'propose', half: halfBytes(m.half, 'propose') }
  }
  if (m.t === 'chain') {
    keys(m, ['t', 'from', 'max'], [], 'chain')
    const from = uint(m.from, 'chain: "from"')
    const max = uint(m.max, 'chain: "max"')
    if (from < 1 || max < 1 || max > LEDGER_PAGE_MAX)
      throw new InvalidInputError(`chain: "from" >= 1 and "max" in 1..${LEDGER_PAGE_MAX}`)
    return { t: 'chain', from, max }
  }
  throw new InvalidInputError('ledger request: unknown "t"')
}

export function decodeAnswer(bytes: Uint8Array): LedgerAnswer {
  const m = decodeMap(bytes, 'ledger answer', LEDGER_FRAME_MAX_BYTES)
  if (m.t === 'agree') {
    keys(m, ['t', 'half'], [], 'agree')
    return { t: 'agree', half: halfBytes(m.half, 'agree') }
  }
  if (m.t === 'refused') {
    keys(m, ['t', 'code', 'error'], ['out', 'in'], 'refused')
    if (typeof m.code !== 'string' || !(REFUSAL_CODES as readonly string[]).includes(m.code))
      throw new InvalidInputError('refused: unknown "code"')
    if (typeof m.error !== 'string' || m.error.length > 1024) throw new InvalidInputError('refused: bad "error"')
    const answer: LedgerAnswer = { t: 'refused', code: m.code as RefusalCode, error: m.error }
    if (m.out !== undefined) answer.out = uint(m.out, 'refused: "out"')
    if (m.in !== undefined) answer.in = uint(m.in, 'refused: "in"')
    return answer
  }
  if (m.t === 'page') {
    keys(m, ['t', 'length', 'entries'], [], 'page')
    if (!Array.isArray(m.entries) || m.entries.length > LEDGER_PAGE_MAX)
      throw new InvalidInputError(`page: at most ${LEDGER_PAGE_MAX} entries`)
    const entries = m.entries.map((e: unknown) => {
      if (typeof e !== 'object' || e === null || Array.isArray(e))
        throw new InvalidInputError('page: an entry is a map')
      const entry = e as Record<string, unknown>
      keys(entry, ['h'], ['o'], 'page entry')
      const out: ChainEntryBytes = { h: halfBytes(entry.h, 'page entry') }
      if (entry.o !== undefined) out.o = halfBytes(entry.o, 'page entry')
      return out
    })
    return { t: 'page', length: uint(m.length, 'page: "length"'), entries }
  }
  throw new InvalidInputError('ledger answer: unknown "t"')
}

export function decodeAnnouncement(bytes: Uint8Array): ReceiptAnnouncement {
  const m = decodeMap(bytes, 'receipt announcement', 2 * RECEIPT_MAX_BYTES + 64)
  keys(m, ['p', 'a'], [], 'receipt announcement')
  return { p: halfBytes(m.p, 'announcement'), a: halfBytes(m.a, 'announcement') }
}

export function decodeForkProof(bytes: Uint8Array): ForkProofBytes {
  const m = decodeMap(bytes, 'fork proof', 2 * RECEIPT_MAX_BYTES + 64)
  keys(m, ['a', 'b'], [], 'fork proof')
  return { a: halfBytes(m.a, 'fork proof'), b: halfBytes(m.b, 'fork proof') }
}

function decodeMap(bytes: Uint8Array, what: string, max: number): Record<string, unknown> {
  if (bytes.length > max) throw new InvalidInputError(`${what} is too large`)
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch {
    throw new InvalidInputError(`${what} is not DAG-CBOR`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array)
    throw new InvalidInputError(`${what} is not a map`)
  return value as Record<string, unknown>
}

function keys(m: Record<string, unknown>, required: string[], optional: string[], what: string): void {
  const allowed = new Set([...required, ...optional])
  for (const k of Object.keys(m)) if (!allowed.has(k)) throw new InvalidInputError(`${what}: unexpected "${k}"`)
  for (const k of required) if (!(k in m)) throw new InvalidInputError(`${what}: "${k}" is missing`)
}

function halfBytes(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length > RECEIPT_MAX_BYTES)
    throw new InvalidInputError(`${what}: a receipt half is bytes, at most ${RECEIPT_MAX_BYTES}`)
  return v
}

function uint(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new InvalidInputError(`${what} is not a whole number`)
  return v
}
