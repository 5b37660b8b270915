/**
 * Helpers for the UCAN tests and bench: device signers, linear chains of delegations, a proof
 * store, and a fake identity directory (devices and removals) for the identity root authority.
 */
import type { Revocation as DeviceRemoval, IdentityDirectory } from '../../src/core/identities.ts'
import { recordCid } from '../../src/core/signed-record.ts'
import type { Signer } from '../../src/core/signer.ts'
import { peerIdOfDid } from '../../src/delegation/ucan/identity-authority.ts'
import { type Delegation, type DelegationFields, signDelegation } from '../../src/delegation/ucan/index.ts'
import { createDeviceSigner } from '../../src/identity/device-signer.ts'
import { generateDeviceKey } from '../../src/identity/keystore.ts'

export function signers(n: number): Signer[] {
  return Array.from({ length: n }, () => createDeviceSigner(generateDeviceKey()))
}

/**
 * A linear chain: `from[0]` delegates to `from[1]`, who delegates to `from[2]`, and so on; the
 * subject is `subject` (default the first signer's DID), each link's fields from `fields(i)`.
 */
export async function linearChain(
  from: readonly Signer[],
  base: Omit<DelegationFields, 'aud' | 'sub'> & { sub?: string | null },
  fields: (i: number) => Partial<DelegationFields> = () => ({}),
): Promise<Delegation[]> {
  const chain: Delegation[] = []
  for (let i = 0; i + 1 < from.length; i++) {
    const issuer = from[i] as Signer
    const sub = base.sub === undefined ? (from[0] as Signer).did : base.sub
    chain.push(await signDelegation(issuer, { ...base, sub, aud: (from[i + 1] as Signer).did, ...fields(i) }))
  }
  return chain
}

/** A proof store: CID to bytes, with `add` for delegations that arrive later. */
export function proofStore(delegations: readonly Delegation[] = []) {
  const map = new Map(delegations.map((d) => [d.cid, d.bytes]))
  return {
    lookup: (cid: string) => map.get(cid),
    add: (d: Delegation) => map.set(d.cid, d.bytes),
  }
}

/** An identity ID (any canonical CIDv1 string does). */
export function fakeIdentityId(seed: string): string {
  return recordCid(new TextEncoder().encode(seed)).toString()
}

/** A directory that knows one identity's current devices and the removed ones (with when, ms). */
export function fakeDirectory(
  identity: string,
  current: readonly Signer[],
  removed: ReadonlyArray<{ signer: Signer; at: number }> = [],
): Pick<IdentityDirectory, 'devicesOf' | 'revocation'> {
  const removals = new Map<string, DeviceRemoval>(
    removed.map(({ signer, at }) => [signer.peerId, { identity, at, reason: 'removed' as const }]),
  )
  return {
    devicesOf: (id) => (id === identity ? current.map((s) => peerIdOfDid(s.did)) : undefined),
    revocation: (peerId) => removals.get(peerId),
  }
}
