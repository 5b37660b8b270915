/**
 * `/lateral/delegation/1.0.0` (docs/protocols/delegation.md, "Wire"): one request frame from the
 * asker, one answer frame back (varint length prefix, canonical DAG-CBOR, at most
 * DELEGATION_FRAME_MAX_BYTES each).
 *
 * ```
 * request = { t: "grant", chain: [1*16 bytes], ? heads: { id, heads } }   ; a delegation to the answerer, root first
 *         / { t: "revoke", revocation: bytes }                             ; a revocation the answerer may care about
 * answer  = { t: "ok" } / { t: "refused", code: tstr, error: tstr }
 * ```
 *
 * Revocations also go out on the gossip topic `/lateral/delegation/revocations/1`, whose message is
 * the revocation's bytes alone.
 */
import * as cbor from '@ipld/dag-cbor'
import { DEFAULT_UCAN_MAX_CHAIN, DELEGATION_FRAME_MAX_BYTES } from '../core/constants.ts'
import { InvalidInputError } from '../core/errors.ts'
import { checkIdentityHeads, type IdentityHeads } from '../core/identities.ts'

export const DELEGATION_PROTOCOL = '/lateral/delegation/1.0.0'
export const REVOCATIONS_TOPIC = '/lateral/delegation/revocations/1'

export type DelegationRequest =
  | { t: 'grant'; chain: Uint8Array[]; heads?: IdentityHeads }
  | { t: 'revoke'; revocation: Uint8Array }

export type DelegationAnswer = { t: 'ok' } | { t: 'refused'; code: string; error: string }

export function encodeMessage(message: DelegationRequest | DelegationAnswer): Uint8Array {
  return cbor.encode(message)
}

function decodeMap(bytes: Uint8Array, what: string): Record<string, unknown> {
  if (bytes.length > DELEGATION_FRAME_MAX_BYTES) throw new InvalidInputError(`${what} is too large`)
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch {
    throw new InvalidInputError(`${what} is not DAG-CBOR`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new InvalidInputError(`${what} is not a map`)
  }
  return value as Record<string, unknown>
}

function keys(m: Record<string, unknown>, required: string[], optional: string[], what: string): void {
  const allowed = new Set([...required, ...optional])
  for (const k of Object.keys(m)) if (!allowed.has(k)) throw new InvalidInputError(`${what}: unexpected "${k}"`)
  for (const k of required) if (!(k in m)) throw new InvalidInputError(`${what}: "${k}" is missing`)
}

export function decodeRequest(bytes: Uint8Array): DelegationRequest {
  const m = decodeMap(bytes, 'delegation request')
  if (m.t === 'grant') {
    keys(m, ['t', 'chain'], ['heads'], 'grant')
    const chain = m.chain
    if (!Array.isArray(chain) || chain.length === 0 || chain.length > DEFAULT_UCAN_MAX_CHAIN) {
      throw new InvalidInputError(`grant: "chain" holds 1..${DEFAULT_UCAN_MAX_CHAIN} delegations`)
    }
    if (!chain.every((c) => c instanceof Uint8Array)) throw new InvalidInputError('grant: "chain" holds bytes')
    return { t: 'grant', chain, ...(m.heads === undefined ? {} : { heads: checkIdentityHeads(m.heads) }) }
  }
  if (m.t === 'revoke') {
    keys(m, ['t', 'revocation'], [], 'revoke')
    if (!(m.revocation instanceof Uint8Array)) throw new InvalidInputError('revoke: "revocation" is bytes')
    return { t: 'revoke', revocation: m.revocation }
  }
  throw new InvalidInputError('delegation request: unknown "t"')
}

export function decodeAnswer(bytes: Uint8Array): DelegationAnswer {
  const m = decodeMap(bytes, 'delegation answer')
  if (m.t === 'ok') {
    keys(m, ['t'], [], 'answer')
    return { t: 'ok' }
  }
  if (m.t === 'refused') {
    keys(m, ['t', 'code', 'error'], [], 'answer')
    if (typeof m.code !== 'string' || m.code.length > 64 || typeof m.error !== 'string' || m.error.length > 1024) {
      throw new InvalidInputError('answer: bad "code" or "error"')
    }
    return { t: 'refused', code: m.code, error: m.error }
  }
  throw new InvalidInputError('delegation answer: unknown "t"')
}
