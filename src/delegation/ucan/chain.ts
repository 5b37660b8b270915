/**
 * Validation of UCAN chains: an invocation with its proofs (what an executor does before it
 * acts), or a chain of delegations someone holds (what a peer does when it receives a grant).
 * The steps run in this order and the first that fails throws a DelegationError naming the link:
 *
 * 1. the invocation: envelope, shape (`Malformed`), signature (`InvalidSignature`);
 * 2. replay, early: an invocation already seen (`Replayed`);
 * 3. the invocation's `exp` at now with the skew (`Expired`); Lateral also refuses an `exp` that
 *    is null or further than `maxTtlSeconds` ahead (`Malformed`), so replay records are bounded;
 *    and the executor, when given, must be the invocation's `aud` (or its `sub`) (`InvalidAudience`);
 * 4. no proof: the invoker must have root authority over the subject (`InvalidClaim`) and not be
 *    a removed device (`DeviceRemoved`);
 * 5. each proof resolved by CID (`UnavailableProof`), its bytes hashing to that CID, then its
 *    envelope, shape and signature (`Malformed`, `InvalidSignature`);
 * 6. time bounds of every delegation at now with the skew (`Expired`, `TooEarly`);
 * 7. principal alignment: each `aud` is the next `iss`, the last is the invoker (`InvalidAudience`);
 * 8. subjects: no powerline root (`InvalidClaim`), one subject throughout (`InvalidSubject`);
 * 9. root authority of the root's issuer over the subject (`InvalidClaim`);
 * 10. command attenuation: each command within its parent's, the invoked one within the last
 *     (`Escalation`);
 * 11. no link (nor the invocation) signed by a removed device (`DeviceRemoved`);
 * 12. no link revoked (`Revoked`);
 * 13. every policy holds for `args` (`MatchError`);
 * 14. replay, atomically: the invocation's CID is recorded until its `exp` (`Replayed`).
 *
 * A delegation chain on its own goes through 5 to 12 (with `audience` in place of the invoker).
 */
import { DEFAULT_UCAN_CLOCK_SKEW_S, DEFAULT_UCAN_INVOCATION_MAX_TTL_S } from '../../core/constants.ts'
import { DelegationError } from '../../core/errors.ts'
import { recordCid } from '../../core/signed-record.ts'
import {
  type Awaitable,
  checkCommands,
  checkDevices,
  checkPolicies,
  checkPrincipals,
  checkRevocations,
  checkRoot,
  checkSubjects,
  checkTimes,
  type DeviceRemovalCheck,
  type RevocationCheck,
  type RootAuthority,
  refuse,
  strictRootAuthority,
  time,
} from './chain-rules.ts'
import { type Delegation, verifyDelegation } from './delegation.ts'
import type { DelegationCache } from './delegation-cache.ts'
import { clip } from './did.ts'
import { type Invocation, verifyInvocation } from './invocation.ts'
import { nowSeconds, type UcanLimits, ucanLimits } from './limits.ts'
import type { ReplayGuard } from './replay.ts'

export interface ChainOptions {
  /** The time to check at, seconds since the epoch (default: the clock). */
  now?: number
  /** Allowed clock skew on every time bound, seconds (DEFAULT_UCAN_CLOCK_SKEW_S). */
  skewSeconds?: number
  /** Who may issue a root (default `strictRootAuthority`: the subject itself). */
  rootAuthority?: RootAuthority
  /** Revocations: why a link is revoked, if it is. */
  isRevoked?: RevocationCheck
  /** Removed devices: why a signer may no longer sign, if so. */
  isDeviceRevoked?: DeviceRemovalCheck
  limits?: Partial<UcanLimits>
  /** Delegations verified before (by CID): their envelope and signature checks are skipped. */
  verified?: DelegationCache
}

export interface DelegationChainOptions extends ChainOptions {
  /** Who must hold the chain: the last delegation's `aud` (`InvalidAudience` otherwise). */
  audience?: string
  /** Check time bounds (default true); false to check a chain's structure whatever the time. */
  checkTime?: boolean
}

export interface InvocationValidationOptions extends ChainOptions {
  /** The delegation with this CID, as bytes, or undefined when it cannot be found. */
  proofs: (cid: string) => Awaitable<Uint8Array | undefined>
  /** Invocations seen before; without one there is no replay protection. */
  replay?: ReplayGuard
  /** This executor's DID: the invocation's `aud` (or, without one, its `sub`) must be it. */
  executor?: string
  /** Longest `exp` ahead of now accepted, seconds; null accepts any, even null (DEFAULT_UCAN_INVOCATION_MAX_TTL_S). */
  maxTtlSeconds?: number | null
}

/** A chain that passed: its links and what it grants. */
export interface ValidatedChain {
  /** Root first. */
  chain: Delegation[]
  subject: string
  /** The command granted at the end of the chain (the narrowest). */
  command: string
  /** Who holds it: the last delegation's audience. */
  audience: string
  /** The latest `nbf` of the chain, if any. */
  notBefore: number | undefined
  /** The earliest `exp` of the chain; null if none expires. */
  expiresAt: number | null
}

export interface ValidatedInvocation {
  invocation: Invocation
  chain: Delegation[]
  subject: string
}

export interface ChainContext {
  now: number
  skew: number
  limits: UcanLimits
  options: ChainOptions
}

function context(options: ChainOptions): ChainContext {
  return {
    now: options.now ?? nowSeconds(),
    skew: options.skewSeconds ?? DEFAULT_UCAN_CLOCK_SKEW_S,
    limits: ucanLimits(options.limits),
    options,
  }
}

/** Validate a chain of delegations (root first) someone holds. */
export async function validateDelegationChain(
  tokens: readonly Uint8Array[],
  options: DelegationChainOptions = {},
): Promise<ValidatedChain> {
  const ctx = context(options)
  if (!Array.isArray(tokens) || tokens.length === 0)
    throw new DelegationError('an empty chain proves nothing', 'Malformed')
  if (tokens.length > ctx.limits.maxChain) {
    throw new DelegationError(
      `a chain of ${tokens.length} delegations is longer than ${ctx.limits.maxChain}`,
      'Malformed',
    )
  }
  const chain = tokens.map((bytes, i) => {
    const cid =
      bytes instanceof Uint8Array && bytes.length <= ctx.limits.delegationMaxBytes ? recordCid(bytes) : undefined
    return cachedVerify(bytes, cid?.toString(), i, ctx)
  })
  const seen = new Set<string>()
  chain.forEach(({ cid }, i) => {
    if (seen.has(cid)) throw refuse('Malformed', i, cid, 'appears twice in the chain')
    seen.add(cid)
  })
  return checkChain(chain, ctx, options.checkTime ?? true, options.audience)
}

/** Steps 6 to 12 for a verified chain, with an invocation or an expected audience at its end. */
export async function checkChain(
  chain: Delegation[],
  ctx: ChainContext,
  checkTime: boolean,
  audience?: string,
  invocation?: Invocation,
): Promise<ValidatedChain> {
  const root = chain[0] as Delegation
  const last = chain.at(-1) as Delegation
  const inv = invocation === undefined ? undefined : { ...invocation.payload, cid: invocation.cid }
  if (checkTime) checkTimes(chain, ctx.now, ctx.skew)
  checkPrincipals(chain, inv)
  if (audience !== undefined && last.payload.aud !== audience) {
    throw refuse(
      'InvalidAudience',
      chain.length - 1,
      last.cid,
      `given to ${clip(last.payload.aud)}, not ${clip(audience)}`,
    )
  }
  const subject = checkSubjects(chain, inv)
  await checkRoot(ctx.options.rootAuthority ?? strictRootAuthority, subject, root.payload.iss, ctx.now, 0, root.cid)
  checkCommands(chain, inv)
  await checkDevices(ctx.options.isDeviceRevoked, chain, ctx.now, inv)
  await checkRevocations(ctx.options.isRevoked, chain)
  const nbfs = chain.flatMap(({ payload }) => (payload.nbf === undefined ? [] : [payload.nbf]))
  const exps = chain.flatMap(({ payload }) => (payload.exp === null ? [] : [payload.exp]))
  return {
    chain,
    subject,
    command: last.payload.cmd,
    audience: last.payload.aud,
    notBefore: nbfs.length === 0 ? undefined : Math.max(...nbfs),
    expiresAt: exps.length === 0 ? null : Math.min(...exps),
  }
}

/** Validate an invocation and its proof chain, in the order above; record it as seen when it passes. */
export async function validateInvocation(
  bytes: Uint8Array,
  options: InvocationValidationOptions,
): Promise<ValidatedInvocation> {
  const ctx = context(options)
  const invocation = verifyInvocation(bytes, { limits: ctx.limits })
  const { cid, payload } = invocation
  if ((await options.replay?.seen?.(cid)) === true) throw refuse('Replayed', 'invocation', cid, 'was already used')
  checkInvocationTime(
    invocation,
    ctx,
    options.maxTtlSeconds === undefined ? DEFAULT_UCAN_INVOCATION_MAX_TTL_S : options.maxTtlSeconds,
  )
  if (options.executor !== undefined && (payload.aud ?? payload.sub) !== options.executor) {
    throw refuse(
      'InvalidAudience',
      'invocation',
      cid,
      `is for ${clip(payload.aud ?? payload.sub)}, not this executor ${clip(options.executor)}`,
    )
  }
  let chain: Delegation[] = []
  let subject = payload.sub
  if (invocation.proofs.length === 0) {
    // Without proofs the invoker must itself hold the subject's authority.
    await checkRoot(
      ctx.options.rootAuthority ?? strictRootAuthority,
      payload.sub,
      payload.iss,
      ctx.now,
      'invocation',
      cid,
    )
    await checkDevices(options.isDeviceRevoked, [], ctx.now, { iss: payload.iss, cid })
  } else {
    chain = await resolveProofs(invocation, options.proofs, ctx)
    subject = (await checkChain(chain, ctx, true, undefined, invocation)).subject
  }
  checkPolicies(chain, payload.args, ctx.limits)
  if (options.replay !== undefined) {
    const until = payload.exp === null ? null : payload.exp + ctx.skew
    if (!(await options.replay.claim(cid, until, ctx.now)))
      throw refuse('Replayed', 'invocation', cid, 'was already used')
  }
  return { invocation, chain, subject }
}

function checkInvocationTime({ cid, payload }: Invocation, ctx: ChainContext, maxTtl: number | null): void {
  const { exp } = payload
  if (exp !== null && ctx.now - ctx.skew > exp) {
    throw refuse('Expired', 'invocation', cid, `expired at ${time(exp)} (now ${time(ctx.now)}, skew ${ctx.skew} s)`)
  }
  if (maxTtl === null) return
  if (exp === null)
    throw refuse('Malformed', 'invocation', cid, 'never expires: Lateral takes only invocations with an exp')
  if (exp > ctx.now + maxTtl + ctx.skew) {
    throw refuse('Malformed', 'invocation', cid, `expires at ${time(exp)}, more than ${maxTtl} s ahead`)
  }
}

async function resolveProofs(
  invocation: Invocation,
  lookup: InvocationValidationOptions['proofs'],
  ctx: ChainContext,
): Promise<Delegation[]> {
  const chain: Delegation[] = []
  for (const [i, cid] of invocation.proofs.entries()) {
    const known = ctx.options.verified?.get(cid)
    if (known !== undefined) {
      chain.push(known)
      continue
    }
    const bytes = await lookup(cid)
    if (bytes === undefined) throw refuse('UnavailableProof', i, cid, 'cannot be found')
    if (!(bytes instanceof Uint8Array)) throw refuse('UnavailableProof', i, cid, 'the lookup gave no bytes')
    if (bytes.length > ctx.limits.delegationMaxBytes) {
      throw refuse('Malformed', i, cid, `${bytes.length} bytes, more than ${ctx.limits.delegationMaxBytes}`)
    }
    if (recordCid(bytes).toString() !== cid)
      throw refuse('UnavailableProof', i, cid, 'the bytes found are not of this CID')
    chain.push(cachedVerify(bytes, cid, i, ctx))
  }
  return chain
}

/** Verify a delegation whose CID is `cid` (the hash of `bytes`), or take it from the cache. */
function cachedVerify(bytes: Uint8Array, cid: string | undefined, link: number, ctx: ChainContext): Delegation {
  const known = cid === undefined ? undefined : ctx.options.verified?.get(cid)
  if (known !== undefined) return known
  const delegation = verifyDelegation(bytes, { limits: ctx.limits, link })
  ctx.options.verified?.set(delegation)
  return delegation
}
