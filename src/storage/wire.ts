/**
 * `/lateral/storage/1.0.0` (docs/protocols/storage.md, schemas/storage.cddl): one request frame
 * from the owner's device, one answer frame from the keeper (varint length prefix, DAG-CBOR, each
 * bounded before it is decoded). Every request carries a UCAN invocation signed by a device of
 * the owner's identity, addressed to the keeper; the arguments live in the invocation, so they are
 * signed, and a replayed request is refused by the invocation's replay guard.
 *
 * ```
 * request = { op: "put" / "drop" / "check", inv: bytes }
 * answer  = { t: "kept", size: uint } / { t: "dropped" }
 *         / { t: "proof", digest: bytes } / { t: "blocks", blocks: [+ bytes] }
 *         / { t: "refused", code: tstr, error: tstr }
 * ```
 */
import * as cbor from '@ipld/dag-cbor'
import { DEFAULT_UCAN_INVOCATION_MAX_BYTES, STORAGE_NONCE_BYTES, STORAGE_WALK_MAX_STEPS } from '../core/constants.ts'
import { InvalidInputError } from '../core/errors.ts'
import type { Challenge } from './challenge.ts'
import { parseRoot } from './dag-walk.ts'

export const STORAGE_PROTOCOL = '/lateral/storage/1.0.0'

/** The commands of the invocations, by request op. */
export const COMMANDS = { put: '/store/put', drop: '/store/drop', check: '/store/check' } as const
export type StorageOp = keyof typeof COMMANDS

/** Largest request frame: an invocation at its bound plus the map around it. */
export const REQUEST_MAX_BYTES = DEFAULT_UCAN_INVOCATION_MAX_BYTES + 64
/** Largest answer but a block proof. */
export const ANSWER_MAX_BYTES = 2048
/** CBOR overhead of a block proof around its blocks (the map, the array, a header per block). */
const BLOCKS_OVERHEAD = 64 + (STORAGE_WALK_MAX_STEPS + 1) * 9
/** Longest refusal text carried. */
const ERROR_MAX_CHARS = 1024
/** A digest is SHA-256. */
const DIGEST_BYTES = 32

/** Why a keeper refuses; the owner maps them to errors and check results. */
export const REFUSALS = [
  'invalid',
  'rate-limited',
  'busy',
  'no-grant',
  'over-quota',
  'size-mismatch',
  'fetch-failed',
  'not-kept',
  'missing',
  'too-large',
  'internal',
] as const
export type RefusalCode = (typeof REFUSALS)[number]

export interface StorageRequest {
  op: StorageOp
  inv: Uint8Array
}

export type StorageAnswer =
  | { t: 'kept'; size: number }
  | { t: 'dropped' }
  | { t: 'proof'; digest: Uint8Array }
  | { t: 'blocks'; blocks: Uint8Array[] }
  | { t: 'refused'; code: RefusalCode; error: string }

export function encodeMessage(message: StorageRequest | StorageAnswer): Uint8Array {
  return cbor.encode(message)
}

/** The largest answer frame an owner reads for a request of `op`. */
export function answerMaxBytes(op: StorageOp, proofMaxBytes: number): number {
  return op === 'check' ? proofMaxBytes + BLOCKS_OVERHEAD : ANSWER_MAX_BYTES
}

export function decodeRequest(bytes: Uint8Array): StorageRequest {
  const m = decodeMap(bytes, REQUEST_MAX_BYTES, 'request')
  exactKeys(m, ['op', 'inv'], [], 'request')
  if (m.op !== 'put' && m.op !== 'drop' && m.op !== 'check') throw new InvalidInputError('storage request: unknown op')
  if (!(m.inv instanceof Uint8Array) || m.inv.length > DEFAULT_UCAN_INVOCATION_MAX_BYTES) {
    throw new InvalidInputError('storage request: "inv" must be the bytes of an invocation')
  }
  return { op: m.op, inv: m.inv }
}

export function decodeAnswer(bytes: Uint8Array, maxBytes: number): StorageAnswer {
  const m = decodeMap(bytes, maxBytes, 'answer')
  switch (m.t) {
    case 'kept':
      exactKeys(m, ['t', 'size'], [], 'answer')
      return { t: 'kept', size: uint(m.size, '"size"') }
    case 'dropped':
      exactKeys(m, ['t'], [], 'answer')
      return { t: 'dropped' }
    case 'proof':
      exactKeys(m, ['t', 'digest'], [], 'answer')
      if (!(m.digest instanceof Uint8Array) || m.digest.length !== DIGEST_BYTES) {
        throw new InvalidInputError('storage answer: "digest" must be 32 bytes')
      }
      return { t: 'proof', digest: m.digest }
    case 'blocks': {
      exactKeys(m, ['t', 'blocks'], [], 'answer')
      const blocks = m.blocks
      if (
        !Array.isArray(blocks) ||
        blocks.length === 0 ||
        blocks.length > STORAGE_WALK_MAX_STEPS + 1 ||
        !blocks.every((b) => b instanceof Uint8Array)
      ) {
        throw new InvalidInputError(`storage answer: "blocks" must hold 1..${STORAGE_WALK_MAX_STEPS + 1} blocks`)
      }
      return { t: 'blocks', blocks }
    }
    case 'refused': {
      exactKeys(m, ['t', 'code', 'error'], [], 'answer')
      const code = REFUSALS.find((c) => c === m.code)
      if (code === undefined || typeof m.error !== 'string' || m.error.length > ERROR_MAX_CHARS) {
        throw new InvalidInputError('storage answer: bad "code" or "error"')
      }
      return { t: 'refused', code, error: m.error }
    }
    default:
      throw new InvalidInputError('storage answer: unknown "t"')
  }
}

/** A refusal, its text cut to the bound the other side accepts. */
export function refusal(code: RefusalCode, error: string): StorageAnswer {
  return { t: 'refused', code, error: error.slice(0, ERROR_MAX_CHARS) }
}

/** Arguments of `/store/put`: the root and the DAG's total bytes as the owner counts them. */
export function putArgs(args: Record<string, unknown>): { cid: string; size: number } {
  exactKeys(args, ['cid', 'size'], [], '/store/put arguments')
  return { cid: parseRoot(cidArg(args.cid)).toString(), size: uint(args.size, '"size"') }
}

/** Arguments of `/store/drop`. */
export function dropArgs(args: Record<string, unknown>): { cid: string } {
  exactKeys(args, ['cid'], [], '/store/drop arguments')
  return { cid: parseRoot(cidArg(args.cid)).toString() }
}

/** Arguments of `/store/check`: the root and the challenge. */
export function checkArgs(args: Record<string, unknown>): { cid: string; challenge: Challenge } {
  exactKeys(args, ['cid', 'nonce', 'steps'], ['range'], '/store/check arguments')
  const cid = parseRoot(cidArg(args.cid)).toString()
  if (!(args.nonce instanceof Uint8Array) || args.nonce.length !== STORAGE_NONCE_BYTES) {
    throw new InvalidInputError(`/store/check: "nonce" must be ${STORAGE_NONCE_BYTES} bytes`)
  }
  const steps = args.steps
  if (!Array.isArray(steps) || steps.length > STORAGE_WALK_MAX_STEPS) {
    throw new InvalidInputError(`/store/check: "steps" must list at most ${STORAGE_WALK_MAX_STEPS} numbers`)
  }
  const challenge: Challenge = { nonce: args.nonce, steps: steps.map((s) => uint32(s)) }
  if (args.range !== undefined) {
    const r = args.range
    if (!Array.isArray(r) || r.length !== 2) throw new InvalidInputError('/store/check: "range" is [offset, length]')
    challenge.range = [uint(r[0], 'range offset'), uint(r[1], 'range length')]
  }
  return { cid, challenge }
}

/** The invocation arguments of a challenge (the inverse of `checkArgs`). */
export function challengeArgs(cid: string, c: Challenge): Record<string, unknown> {
  return { cid, nonce: c.nonce, steps: c.steps, ...(c.range === undefined ? {} : { range: c.range }) }
}

function cidArg(value: unknown): string {
  if (typeof value !== 'string') throw new InvalidInputError('"cid" must be a CID string')
  return value
}

function uint(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(`${what} must be a non-negative integer`)
  }
  return value
}

function uint32(value: unknown): number {
  const n = uint(value, 'a step')
  if (n > 0xffffffff) throw new InvalidInputError('a step must fit in 32 bits')
  return n
}

function decodeMap(bytes: Uint8Array, max: number, what: string): Record<string, unknown> {
  if (bytes.length > max) throw new InvalidInputError(`storage ${what} of ${bytes.length} bytes is too large`)
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch (err) {
    throw new InvalidInputError(`storage ${what} is not DAG-CBOR: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new InvalidInputError(`storage ${what} is not a map`)
  }
  return value as Record<string, unknown>
}

function exactKeys(m: Record<string, unknown>, required: string[], optional: string[], what: string): void {
  for (const k of required) if (!(k in m)) throw new InvalidInputError(`${what} lacks "${k}"`)
  for (const k of Object.keys(m)) {
    if (!required.includes(k) && !optional.includes(k)) {
      throw new InvalidInputError(`${what} has an unknown field "${k.slice(0, 32)}"`)
    }
  }
}
