/**
 * What other services know of identities (people with several devices), as the identity
 * service answers it. Injected as a component (`identities`), so messaging (and later
 * delegation and the ledger) never import the identity service.
 */

/** Why a device's signatures are refused from now on. */
export interface Revocation {
  /** The identity that removed the device. */
  identity: string
  /** When the removal was signed (ms since epoch). */
  at: number
  /** `removed` or `lost` (the person said the device was lost). */
  reason: 'removed' | 'lost'
}

export interface IdentityDirectory {
  /** This node's own identity ID. */
  self(): string
  /** The identity a device belongs to, when this node knows it. */
  identityOf(peerId: string): string | undefined
  /** The current devices (peer IDs) of an identity, or undefined when its log is unknown here. */
  devicesOf(identityId: string): string[] | undefined
  /** The removal that makes this device's signatures void, if any. */
  revocation(peerId: string): Revocation | undefined
}

/** A directory that knows no identities: every device speaks for itself (tests, embedding). */
export const noIdentities: IdentityDirectory = {
  self: () => '',
  identityOf: () => undefined,
  devicesOf: () => undefined,
  revocation: () => undefined,
}

/** The refusal text for a revoked device, for logs and error replies. */
export function revocationReason(peerId: string, r: Revocation): string {
  return `device ${peerId} was ${r.reason === 'lost' ? 'reported lost and ' : ''}removed from identity ${r.identity} at ${new Date(r.at).toISOString()}`
}
