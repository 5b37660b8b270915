/**
 * UCAN 1.0 invocations: a signed request by `iss` to run `cmd` with `args` on `sub`, proven by
 * the delegations `prf` (CIDs, root first, each one's `aud` the next one's `iss`, the last one's
 * `aud` the invoker).
 *
 * ```
 * envelope = [ signature, { "h": varsig, "ucan/inv@1.0.0": payload } ]
 * payload  = { iss: did:key, sub: did, ? aud: did:key, cmd: command, args: map, prf: [* cid],
 *              nonce: bytes, exp: int | null, ? iat: int, ? meta: map, ? cause: cid }
 * ```
 *
 * Lateral signs invocations with a 16-byte random nonce and an `exp` (DEFAULT_UCAN_INVOCATION_TTL_S
 * from now unless the caller says), so that an executor's record of seen invocations is bounded.
 *
 * @example
 * ```ts
 * const inv = await signInvocation(device, { sub, cmd: '/store/put', args: { cid }, prf: [grant.cid] })
 * await validateInvocation(inv.bytes, { proofs: (cid) => store.get(cid) })   // chain.ts
 * ```
 */
import { CID } from 'multiformats/cid'
import { DEFAULT_UCAN_INVOCATION_TTL_S, UCAN_NONCE_BYTES } from '../../core/constants.ts'
import { randomBytes } from '../../core/crypto.ts'
import { InvalidInputError } from '../../core/errors.ts'
import type { Signer } from '../../core/signer.ts'
import { checkPrincipal, checkSubject } from './did.ts'
import { signToken, verifyToken } from './envelope.ts'
import { checkCommand, checkKeys, checkLink, checkLinks, checkMap, checkNonce, checkTime, defined } from './fields.ts'
import { nowSeconds, type UcanLimits, ucanLimits } from './limits.ts'

/** The envelope type tag of invocations, as in the UCAN 1.0.0 fixtures. */
export const INVOCATION_TAG = 'ucan/inv@1.0.0'

export interface InvocationPayload {
  iss: string
  sub: string
  /** The executor, when it is not the subject. */
  aud?: string
  cmd: string
  args: Record<string, unknown>
  /** The proof chain, root first. */
  prf: CID[]
  nonce: Uint8Array
  exp: number | null
  /** When the invoker says it signed (not trusted). */
  iat?: number
  meta?: Record<string, unknown>
  /** The receipt that asked for this invocation. */
  cause?: CID
}

/** An invocation whose shape and signature were checked. */
export interface Invocation {
  cid: string
  bytes: Uint8Array
  payload: InvocationPayload
  /** `prf` as CID strings, root first. */
  proofs: string[]
}

export interface InvocationFields {
  sub: string
  aud?: string
  cmd: string
  args?: Record<string, unknown>
  /** The delegations that prove the invoker's authority, root first (CIDs). */
  prf: ReadonlyArray<string | CID>
  /** Expiry (seconds); default now + DEFAULT_UCAN_INVOCATION_TTL_S. */
  exp?: number
  /** Issued at (seconds); default now. */
  iat?: number
  meta?: Record<string, unknown>
  cause?: string | CID
}

export interface InvocationOptions {
  limits?: Partial<UcanLimits>
  /** The clock, seconds (tests). */
  now?: number
}

const REQUIRED = ['iss', 'sub', 'cmd', 'args', 'prf', 'nonce', 'exp'] as const
const OPTIONAL = ['aud', 'iat', 'meta', 'cause'] as const

export function checkInvocationPayload(value: unknown, limits: UcanLimits): InvocationPayload {
  const p = checkKeys(value, 'invocation', REQUIRED, OPTIONAL)
  checkPrincipal(p.iss, 'iss')
  checkSubject(p.sub, 'sub')
  if (p.aud !== undefined) checkPrincipal(p.aud, 'aud')
  checkCommand(p.cmd)
  checkMap(p.args, 'args')
  checkLinks(p.prf, 'prf', limits.maxChain)
  checkNonce(p.nonce)
  checkTime(p.exp, 'exp', true)
  if (p.iat !== undefined) checkTime(p.iat, 'iat', false)
  if (p.meta !== undefined) checkMap(p.meta, 'meta')
  if (p.cause !== undefined) checkLink(p.cause, 'cause')
  return p as unknown as InvocationPayload
}

/** Sign an invocation from `signer`. InvalidInputError if a field is malformed. */
export async function signInvocation(
  signer: Signer,
  fields: InvocationFields,
  options: InvocationOptions = {},
): Promise<Invocation> {
  const now = options.now ?? nowSeconds()
  return signInvocationPayload(
    signer,
    defined({
      iss: signer.did,
      sub: fields.sub,
      aud: fields.aud,
      cmd: fields.cmd,
      args: fields.args ?? {},
      prf: fields.prf.map((link) => toCid(link, 'prf')),
      nonce: randomBytes(UCAN_NONCE_BYTES),
      exp: fields.exp ?? now + DEFAULT_UCAN_INVOCATION_TTL_S,
      iat: fields.iat ?? now,
      meta: fields.meta,
      cause: fields.cause === undefined ? undefined : toCid(fields.cause, 'cause'),
    }),
    options,
  )
}

/** Sign a complete payload (revocations use it for their fixed nonce and null `exp`). */
export async function signInvocationPayload(
  signer: Signer,
  payload: InvocationPayload,
  options: Pick<InvocationOptions, 'limits'> = {},
): Promise<Invocation> {
  const limits = ucanLimits(options.limits)
  if (payload.iss !== signer.did) throw new InvalidInputError('an invocation is signed by its issuer')
  const record = await signToken(signer, payload, {
    type: INVOCATION_TAG,
    maxBytes: limits.invocationMaxBytes,
    validate: (value) => checkInvocationPayload(value, limits),
  })
  return { cid: record.cid.toString(), bytes: record.bytes, payload, proofs: payload.prf.map((c) => c.toString()) }
}

/** Verify an invocation's envelope, shape and signature. DelegationError `Malformed`/`InvalidSignature`. */
export function verifyInvocation(
  bytes: Uint8Array,
  options: Pick<InvocationOptions, 'limits'> & { link?: 'invocation' | 'revocation' } = {},
): Invocation {
  const limits = ucanLimits(options.limits)
  const record = verifyToken(bytes, {
    type: INVOCATION_TAG,
    maxBytes: limits.invocationMaxBytes,
    validate: (value) => checkInvocationPayload(value, limits),
    issuerOf: (payload) => payload.iss,
    link: options.link ?? 'invocation',
  })
  const payload = record.payload
  return { cid: record.cid.toString(), bytes: record.bytes, payload, proofs: payload.prf.map((c) => c.toString()) }
}

function toCid(link: string | CID, field: string): CID {
  if (typeof link !== 'string') return checkLink(link, field)
  try {
    return checkLink(CID.parse(link), field)
  } catch {
    throw new InvalidInputError(`${field} ${JSON.stringify(link.slice(0, 80))} is not a CID`)
  }
}
