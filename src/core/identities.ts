/**
 * What other services know of identities (people with several devices), as the identity
 * service answers it. Injected as a component (`identities`), so messaging (and later
 * delegation and the ledger) never import the identity service.
 */
import { CID } from 'multiformats/cid'
import { InvalidInputError } from './errors.ts'
import type { KeyAgreement } from './signer.ts'
import { type DataVault, deviceVault } from './vault.ts'

/** Why a device's signatures are refused from now on. */
export interface Revocation {
  /** The identity that removed the device. */
  identity: string
  /** When the removal was signed (ms since epoch). */
  at: number
  /** `removed` or `lost` (the person said the device was lost). */
  reason: 'removed' | 'lost'
}

/** An identity and the heads of its log as one device holds them: a hint, verified by fetching the log. */
export interface IdentityHeads {
  /** The identity ID. */
  id: string
  /** CIDs of its log's heads. */
  heads: string[]
}

/** Heads a log has at most (concurrent writers), so an announcement is bounded. */
export const MAX_IDENTITY_HEADS = 8

/** Check the shape of received heads: an identity ID and 1..8 head CIDs, in canonical string form. */
export function checkIdentityHeads(value: unknown): IdentityHeads {
  const m = value as Record<string, unknown>
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.keys(m).sort().join() !== 'heads,id'
  ) {
    throw new InvalidInputError('identity heads must be a map of "id" and "heads"')
  }
  if (!Array.isArray(m.heads) || m.heads.length === 0 || m.heads.length > MAX_IDENTITY_HEADS) {
    throw new InvalidInputError(`identity heads must name 1..${MAX_IDENTITY_HEADS} heads`)
  }
  return { id: canonicalCid(m.id), heads: m.heads.map(canonicalCid) }
}

function canonicalCid(value: unknown): string {
  if (typeof value !== 'string' || value.length > 128) throw new InvalidInputError('not a CID')
  let cid: string
  try {
    cid = CID.parse(value).toString()
  } catch {
    throw new InvalidInputError('not a CID')
  }
  if (cid !== value) throw new InvalidInputError('a CID not in its canonical form')
  return cid
}

export interface IdentityDirectory {
  /** This node's own identity ID. */
  self(): string
  /** The identity a device belongs to, when this node knows it. */
  identityOf(peerId: string): string | undefined
  /** The current devices (peer IDs) of an identity, or undefined when its log is unknown here. */
  devicesOf(identityId: string): string[] | undefined
  /** The peers that hold an identity's direct messages while its devices are away (its profile). */
  mailboxesOf(identityId: string): string[] | undefined
  /**
   * Ask connected peers for a newer log of another identity (its devices first, then its
   * mailboxes, then any): for a recipient whose devices are away, a peer that keeps the log
   * (its mailbox) may know devices or mailboxes this node does not yet. Rate-limited per
   * identity; every entry is verified. True when this node's copy changed or became known.
   */
  refresh(identityId: string): Promise<boolean>
  /** The removal that makes this device's signatures void, if any. */
  revocation(peerId: string): Revocation | undefined
  /** Seals this node's own data so that the person's current devices, and only they, can open it. */
  readonly vault: DataVault
  /** This node's identity and its log's heads, carried in each direct message it sends. */
  ownHeads(): IdentityHeads | undefined
  /**
   * A device (`from`) named the heads of its identity, in a message that reached this node from
   * `via`: fetch the log from them when this node cares about that identity and lacks a head.
   */
  observeHeads(from: string, heads: IdentityHeads, via: string): void
}

/**
 * A directory that knows no identities: every device speaks for itself and seals its own data to
 * its own key (tests, embedding).
 */
export function deviceOnly(keyAgreement: KeyAgreement): IdentityDirectory {
  return {
    self: () => '',
    identityOf: () => undefined,
    devicesOf: () => undefined,
    mailboxesOf: () => undefined,
    refresh: async () => false,
    revocation: () => undefined,
    vault: deviceVault(keyAgreement),
    ownHeads: () => undefined,
    observeHeads: () => {},
  }
}

/** The refusal text for a revoked device, for logs and error replies. */
export function revocationReason(peerId: string, r: Revocation): string {
  return `device ${peerId} was ${r.reason === 'lost' ? 'reported lost and ' : ''}removed from identity ${r.identity} at ${new Date(r.at).toISOString()}`
}
