/**
 * UCAN 1.0 delegations: a signed grant from `iss` to `aud` of the right to run `cmd` (and any
 * command below it) on `sub`, under the policy `pol`, between `nbf` and `exp`.
 *
 * ```
 * envelope = [ signature, { "h": varsig, "ucan/dlg@1.0.0": payload } ]
 * payload  = { iss: did:key, aud: did:key, sub: did | null, cmd: command, pol: policy,
 *              nonce: bytes, ? meta: map, ? nbf: int, exp: int | null }
 * ```
 *
 * Lateral always sets `exp` and a 16-byte random nonce when it signs; it accepts what UCAN
 * allows (`exp: null`, other nonce lengths up to 64 bytes) from others, and nothing more: no
 * unknown field, no key type but Ed25519, no float where an integer belongs.
 *
 * @example
 * ```ts
 * const grant = await signDelegation(device, {
 *   aud: peerDid, sub: identityDid(identityId), cmd: '/store/put',
 *   pol: [['<=', '.size', 10 * 2 ** 30]], exp: nowSeconds() + 30 * 86400,
 * })
 * const same = verifyDelegation(grant.bytes)        // shape and signature; time is checked at use
 * ```
 */
import { UCAN_NONCE_BYTES } from '../../core/constants.ts'
import { randomBytes } from '../../core/crypto.ts'
import type { Signer } from '../../core/signer.ts'
import { checkPrincipal, checkSubject } from './did.ts'
import { signToken, verifyToken } from './envelope.ts'
import { checkCommand, checkKeys, checkMap, checkNonce, checkTime, defined } from './fields.ts'
import { type UcanLimits, ucanLimits } from './limits.ts'
import { type Policy, parsePolicy } from './policy.ts'

/** The envelope type tag of delegations, as in the UCAN 1.0.0 fixtures. */
export const DELEGATION_TAG = 'ucan/dlg@1.0.0'

export interface DelegationPayload {
  iss: string
  aud: string
  /** The subject; `null` is a powerline (any subject the issuer holds). */
  sub: string | null
  cmd: string
  /** The policy as signed; `policy` on the Delegation is its parsed form. */
  pol: unknown[]
  nonce: Uint8Array
  meta?: Record<string, unknown>
  nbf?: number
  exp: number | null
}

/** A delegation whose shape and signature were checked. */
export interface Delegation {
  /** Its CID (the ID revocations and invocations name). */
  cid: string
  /** The envelope bytes as received or signed: store and forward these. */
  bytes: Uint8Array
  payload: DelegationPayload
  policy: Policy
}

/** What the caller of `signDelegation` chooses; the issuer is the signer, the nonce is random. */
export interface DelegationFields {
  aud: string
  sub: string | null
  cmd: string
  pol?: unknown[]
  /** Valid from (seconds); omitted, the delegation is valid at once. */
  nbf?: number
  /** Expiry (seconds): Lateral always sets one. */
  exp: number
  meta?: Record<string, unknown>
}

export interface DelegationOptions {
  limits?: Partial<UcanLimits>
}

const REQUIRED = ['iss', 'aud', 'sub', 'cmd', 'pol', 'nonce', 'exp'] as const
const OPTIONAL = ['meta', 'nbf'] as const

/** Check a delegation payload's shape; InvalidInputError naming the first problem. */
export function checkDelegationPayload(
  value: unknown,
  limits: UcanLimits,
): { payload: DelegationPayload; policy: Policy } {
  const p = checkKeys(value, 'delegation', REQUIRED, OPTIONAL)
  checkPrincipal(p.iss, 'iss')
  checkPrincipal(p.aud, 'aud')
  if (p.sub !== null) checkSubject(p.sub, 'sub')
  checkCommand(p.cmd)
  const policy = parsePolicy(p.pol, limits)
  checkNonce(p.nonce)
  if (p.meta !== undefined) checkMap(p.meta, 'meta')
  if (p.nbf !== undefined) checkTime(p.nbf, 'nbf', false)
  checkTime(p.exp, 'exp', true)
  return { payload: p as unknown as DelegationPayload, policy }
}

/** Sign a delegation from `signer` (the issuer). InvalidInputError if a field is malformed. */
export async function signDelegation(
  signer: Signer,
  fields: DelegationFields,
  options: DelegationOptions = {},
): Promise<Delegation> {
  const limits = ucanLimits(options.limits)
  checkTime(fields.exp, 'exp', false)
  const payload: DelegationPayload = defined({
    iss: signer.did,
    aud: fields.aud,
    sub: fields.sub,
    cmd: fields.cmd,
    pol: fields.pol ?? [],
    nonce: randomBytes(UCAN_NONCE_BYTES),
    meta: fields.meta,
    nbf: fields.nbf,
    exp: fields.exp,
  })
  let policy: Policy | undefined
  const record = await signToken(signer, payload, {
    type: DELEGATION_TAG,
    maxBytes: limits.delegationMaxBytes,
    validate: (value) => {
      policy = checkDelegationPayload(value, limits).policy
      return value
    },
  })
  return { cid: record.cid.toString(), bytes: record.bytes, payload, policy: policy as Policy }
}

/**
 * Verify a delegation's envelope, shape and signature (by its `iss`). DelegationError `Malformed`
 * or `InvalidSignature` if refused. Time bounds, chains and revocation are checked at use (chain.ts).
 */
export function verifyDelegation(bytes: Uint8Array, options: DelegationOptions & { link?: number } = {}): Delegation {
  const limits = ucanLimits(options.limits)
  let policy: Policy | undefined
  const record = verifyToken(bytes, {
    type: DELEGATION_TAG,
    maxBytes: limits.delegationMaxBytes,
    validate: (value) => {
      const checked = checkDelegationPayload(value, limits)
      policy = checked.policy
      return checked.payload
    },
    issuerOf: (payload) => payload.iss,
    link: options.link ?? 0,
  })
  return { cid: record.cid.toString(), bytes: record.bytes, payload: record.payload, policy: policy as Policy }
}
