/**
 * UCAN 1.0 for Lateral: delegations, invocations, the policy language, chain validation and
 * revocations, as pure functions over bytes (no networking). Tokens are signed records (the UCAN
 * envelope, canonical DAG-CBOR, Ed25519) with one valid form each; docs/protocols/delegation.md
 * is the reference.
 *
 * @example
 * ```ts
 * // A device of identity I lets peer P keep up to 10 GiB for I until June.
 * const grant = await signDelegation(device, {
 *   aud: peerDid, sub: identityDid(I), cmd: '/store/put',
 *   pol: [['<=', '.size', 10 * 2 ** 30]], exp: Date.parse('2027-06-01') / 1000,
 * })
 * // P checks what it received.
 * const held = await validateDelegationChain([grant.bytes], {
 *   audience: peerDid, rootAuthority: identityRootAuthority(identities), isDeviceRevoked: removedDeviceCheck(identities),
 * })
 * // A device of I asks P to act; P validates the invocation (and records it against replay).
 * const inv = await signInvocation(otherDevice, { sub: identityDid(I), aud: peerDid, cmd: '/store/put', args, prf: [] })
 * await validateInvocation(inv.bytes, { proofs, replay, executor: peerDid, rootAuthority, isDeviceRevoked, isRevoked })
 * ```
 */

export {
  type ChainOptions,
  type DelegationChainOptions,
  type InvocationValidationOptions,
  type ValidatedChain,
  type ValidatedInvocation,
  validateDelegationChain,
  validateInvocation,
} from './chain.ts'
export {
  type DeviceRemovalCheck,
  type RevocationCheck,
  type RootAuthority,
  strictRootAuthority,
} from './chain-rules.ts'
export {
  DELEGATION_TAG,
  type Delegation,
  type DelegationFields,
  type DelegationPayload,
  signDelegation,
  verifyDelegation,
} from './delegation.ts'
export { createDelegationCache, type DelegationCache, type DelegationCacheInit } from './delegation-cache.ts'
export { IDENTITY_DID_PREFIX, identityDid, identityIdOfDid } from './did.ts'
export { commandCovers } from './fields.ts'
export { identityRootAuthority, peerIdOfDid, removedDeviceCheck } from './identity-authority.ts'
export {
  INVOCATION_TAG,
  type Invocation,
  type InvocationFields,
  type InvocationPayload,
  signInvocation,
  verifyInvocation,
} from './invocation.ts'
export { DEFAULT_UCAN_LIMITS, nowSeconds, type UcanLimits } from './limits.ts'
export { evaluatePolicy, type Policy, type PolicyResult, parsePolicy } from './policy.ts'
export { createReplayGuard, type MemoryReplayGuard, type ReplayGuard, type ReplayGuardInit } from './replay.ts'
export {
  canRevoke,
  confirmRevocation,
  REVOKE_COMMAND,
  type Revocation,
  type RevokeOptions,
  revocationCheck,
  signRevocation,
  verifyRevocation,
} from './revocation.ts'
