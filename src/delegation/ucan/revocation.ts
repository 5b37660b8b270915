/**
 * Revocations (UCAN Revocation): an invocation of `/ucan/revoke` signed by the revoker, naming
 * the revoked delegation and a path witness, the chain from the root to it, that shows the
 * revoker in it.
 *
 * ```
 * payload = { iss: revoker, sub: the chain's subject, cmd: "/ucan/revoke",
 *             args: { rev: cid, pth: [+ cid] },       ; pth: root first, ending with rev
 *             prf: [], nonce: h'', exp: null }         ; never expires; one form per (revoker, path)
 * ```
 *
 * How it is checked, in three places:
 * 1. on receipt, `verifyRevocation`: envelope, shape and signature only, so a revocation is
 *    accepted (stored, gossiped) before the delegation it names is known;
 * 2. when the path's delegations are at hand, `confirmRevocation`: the path is a well-formed
 *    chain (alignment, subject, root authority; time does not matter) ending with `rev`, and the
 *    revoker may revoke it (`canRevoke`); a revocation whose path is still missing stays pending;
 * 3. at each use of a chain, `revocationCheck` (the `isRevoked` hook of chain.ts): a link is
 *    revoked for a chain that reaches it through a delegation issued by the revoker, or when the
 *    revoker has root authority over the subject (for an identity: any current device of it).
 *    So a revocation holds against the chains it can concern, even when it came first.
 *
 * @example
 * ```ts
 * const revocation = await signRevocation(device, path)    // path: Delegation[], root first
 * const r = verifyRevocation(revocation.bytes)
 * await validateInvocation(bytes, { proofs, isRevoked: revocationCheck((cid) => store.revocationsOf(cid)) })
 * ```
 */
import { CID } from 'multiformats/cid'
import { DelegationError, InvalidInputError } from '../../core/errors.ts'
import type { Signer } from '../../core/signer.ts'
import { type ChainOptions, checkChain } from './chain.ts'
import type { Awaitable, RevocationCheck, RootAuthority } from './chain-rules.ts'
import { refuse, strictRootAuthority } from './chain-rules.ts'
import { type Delegation, verifyDelegation } from './delegation.ts'
import { clip, identityIdOfDid } from './did.ts'
import { checkKeys, checkLink, checkLinks } from './fields.ts'
import { type Invocation, signInvocationPayload, verifyInvocation } from './invocation.ts'
import { nowSeconds, type UcanLimits, ucanLimits } from './limits.ts'

export const REVOKE_COMMAND = '/ucan/revoke'

/** A revocation whose shape and signature were checked. */
export interface Revocation {
  cid: string
  bytes: Uint8Array
  /** Who revokes. */
  revoker: string
  /** The subject of the revoked delegation's chain. */
  subject: string
  /** The revoked delegation's CID. */
  revoked: string
  /** The path witness: CIDs from the root to the revoked delegation. */
  path: string[]
  invocation: Invocation
}

/**
 * Revoke the last delegation of `path` (root first), as `signer`, who must have issued one of
 * them, or sign for an identity subject (whose devices may revoke; checked by whoever receives it).
 */
export async function signRevocation(
  signer: Signer,
  path: readonly Delegation[],
  options: { limits?: Partial<UcanLimits> } = {},
): Promise<Revocation> {
  const root = path[0]
  const revoked = path.at(-1)
  if (root === undefined || revoked === undefined) throw new InvalidInputError('a revocation names a path')
  const subject = root.payload.sub
  if (subject === null) throw new InvalidInputError('the path does not begin at a root (its subject is null)')
  const issuers = path.map((d) => d.payload.iss)
  if (!issuers.includes(signer.did) && identityIdOfDid(subject) === undefined) {
    throw new InvalidInputError(`${signer.did} issued no delegation of this path: it cannot revoke`)
  }
  const invocation = await signInvocationPayload(
    signer,
    {
      iss: signer.did,
      sub: subject,
      cmd: REVOKE_COMMAND,
      args: { rev: CID.parse(revoked.cid), pth: path.map((d) => CID.parse(d.cid)) },
      prf: [],
      nonce: new Uint8Array(0),
      exp: null,
    },
    options,
  )
  return revocationOf(invocation)
}

/** Verify a revocation's envelope, shape and signature; DelegationError (`Malformed`, `InvalidSignature`). */
export function verifyRevocation(bytes: Uint8Array, options: { limits?: Partial<UcanLimits> } = {}): Revocation {
  const limits = ucanLimits(options.limits)
  const invocation = verifyInvocation(bytes, { limits, link: 'revocation' })
  const { payload, cid } = invocation
  const bad = (why: string) => refuse('Malformed', 'revocation', cid, why)
  if (payload.cmd !== REVOKE_COMMAND) throw bad(`its command is ${clip(payload.cmd)}, not ${REVOKE_COMMAND}`)
  if (payload.prf.length > 0 || payload.exp !== null || payload.nonce.length > 0 || payload.aud !== undefined) {
    throw bad('a revocation has no proofs, no audience, an empty nonce and a null exp')
  }
  try {
    const args = checkKeys(payload.args, 'args', ['rev', 'pth'], [])
    const rev = checkLink(args.rev, 'rev').toString()
    const path = checkLinks(args.pth, 'pth', limits.maxChain).map(String)
    if (path.at(-1) !== rev) throw new InvalidInputError('the path does not end with the revoked delegation')
  } catch (err) {
    if (err instanceof InvalidInputError) throw bad(err.message)
    throw err
  }
  return revocationOf(invocation)
}

function revocationOf(invocation: Invocation): Revocation {
  const args = invocation.payload.args as { rev: CID; pth: CID[] }
  return {
    cid: invocation.cid,
    bytes: invocation.bytes,
    revoker: invocation.payload.iss,
    subject: invocation.payload.sub,
    revoked: args.rev.toString(),
    path: args.pth.map(String),
    invocation,
  }
}

export interface RevokeOptions {
  /** Who has root authority over a subject (default: the subject itself). */
  rootAuthority?: RootAuthority
  now?: number
}

/**
 * Whether `revocation` revokes its delegation for a chain (verified, root first) that holds it:
 * the revoker issued that delegation or one before it in this chain, or has root authority over
 * the chain's subject. False when the chain does not hold the delegation or is about another subject.
 */
export async function canRevoke(
  revocation: Revocation,
  chain: readonly Delegation[],
  options: RevokeOptions = {},
): Promise<boolean> {
  const at = chain.findIndex((d) => d.cid === revocation.revoked)
  if (at < 0 || chain[0]?.payload.sub !== revocation.subject) return false
  if (chain.slice(0, at + 1).some((d) => d.payload.iss === revocation.revoker)) return true
  try {
    await (options.rootAuthority ?? strictRootAuthority)(revocation.subject, revocation.revoker, {
      now: options.now ?? nowSeconds(),
    })
    return true
  } catch (err) {
    if (err instanceof DelegationError) return false
    throw err
  }
}

/**
 * Check a revocation against its path witness: `lookup` gives each delegation's bytes. Returns the
 * path's delegations; DelegationError `UnavailableProof` while one is missing (keep the revocation
 * pending), or the reason the witness fails (then drop it).
 */
export async function confirmRevocation(
  revocation: Revocation,
  lookup: (cid: string) => Awaitable<Uint8Array | undefined>,
  options: Omit<ChainOptions, 'isRevoked' | 'isDeviceRevoked'> = {},
): Promise<Delegation[]> {
  const limits = ucanLimits(options.limits)
  const chain: Delegation[] = []
  for (const [i, cid] of revocation.path.entries()) {
    const bytes = await lookup(cid)
    if (bytes === undefined)
      throw refuse('UnavailableProof', i, cid, 'the revocation path names it, and it cannot be found')
    const delegation = verifyDelegation(bytes, { limits, link: i })
    if (delegation.cid !== cid) throw refuse('UnavailableProof', i, cid, 'the bytes found are not of this CID')
    chain.push(delegation)
  }
  const now = options.now ?? nowSeconds()
  await checkChain(chain, { now, skew: 0, limits, options }, false)
  if (!(await canRevoke(revocation, chain, { ...options, now }))) {
    throw refuse(
      'InvalidClaim',
      'revocation',
      revocation.cid,
      `${clip(revocation.revoker)} issued no delegation of its path`,
    )
  }
  return chain
}

/**
 * An `isRevoked` hook for chain.ts from a store of revocations: `revocationsOf(cid)` gives those
 * that name `cid` (confirmed or pending alike: each is checked against the chain in use).
 */
export function revocationCheck(
  revocationsOf: (cid: string) => Awaitable<Iterable<Revocation>>,
  options: RevokeOptions = {},
): RevocationCheck {
  return async (cid, path) => {
    for (const revocation of await revocationsOf(cid)) {
      if (await canRevoke(revocation, path, options)) {
        return `revoked by ${clip(revocation.revoker)} (revocation ${revocation.cid})`
      }
    }
    return undefined
  }
}
