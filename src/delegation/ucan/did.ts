/**
 * The principals a UCAN names. Issuers and audiences are Ed25519 `did:key`s (devices, peers);
 * a subject may also be a Lateral identity, `did:lateral:<identity ID>`, where the identity ID is
 * the CID of the identity log's genesis entry. Such a subject has no key of its own: its current
 * devices speak for it (see `identityRootAuthority`).
 */
import { CID } from 'multiformats/cid'
import { InvalidInputError } from '../../core/errors.ts'
import { publicKeyFromDid } from '../../core/signer.ts'

/** The DID method of Lateral identities. */
export const IDENTITY_DID_PREFIX = 'did:lateral:'
/** Longer than any CIDv1 of a SHA-256 digest in base32: refused before parsing. */
const IDENTITY_ID_MAX_CHARS = 128

/** The DID of an identity (`did:lateral:bafy...`); InvalidInputError if `id` is not an identity ID. */
export function identityDid(id: string): string {
  if (!isIdentityId(id)) throw new InvalidInputError(`${JSON.stringify(id)} is not an identity ID`)
  return `${IDENTITY_DID_PREFIX}${id}`
}

/** The identity ID inside `did:lateral:<id>`, or undefined for any other DID (or a malformed one). */
export function identityIdOfDid(did: string): string | undefined {
  if (typeof did !== 'string' || !did.startsWith(IDENTITY_DID_PREFIX)) return undefined
  const id = did.slice(IDENTITY_DID_PREFIX.length)
  return isIdentityId(id) ? id : undefined
}

/** A CIDv1 in its canonical string form (so one identity has exactly one DID). */
function isIdentityId(id: string): boolean {
  if (typeof id !== 'string' || id.length === 0 || id.length > IDENTITY_ID_MAX_CHARS) return false
  try {
    const cid = CID.parse(id)
    return cid.version === 1 && cid.toString() === id
  } catch {
    return false
  }
}

/** An issuer or audience: an Ed25519 `did:key`. Throws InvalidInputError naming `field`. */
export function checkPrincipal(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new InvalidInputError(`${field} is not a DID`)
  try {
    publicKeyFromDid(value)
  } catch {
    throw new InvalidInputError(`${field} ${clip(value)} is not an Ed25519 did:key`)
  }
  return value
}

/** A subject: an Ed25519 `did:key` or a Lateral identity DID. */
export function checkSubject(value: unknown, field: string): string {
  if (typeof value === 'string' && identityIdOfDid(value) !== undefined) return value
  if (typeof value === 'string' && value.startsWith(IDENTITY_DID_PREFIX)) {
    throw new InvalidInputError(`${field} ${clip(value)} names no identity ID`)
  }
  return checkPrincipal(value, field)
}

/** A DID cut for an error message (a hostile token may carry a long one). */
export function clip(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`
}
