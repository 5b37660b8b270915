/**
 * Pairing codes: what the NEW device shows (as text and as a QR code) and the person carries to a
 * device already in the identity. A code holds how to reach the new device (its Ed25519 key, which
 * is its peer ID, and a few multiaddrs), a one-time 16-byte secret and an expiry.
 *
 * Format (docs/protocols/identity.md, `pairing-code` in schemas/pairing.cddl):
 *
 *   code  = crockford-base32( body || sha256(body)[0..4] )
 *   body  = dag-cbor [ 1, publicKey (32 B), secret (16 B), expiresAt (s since epoch), [ addr, ... ] ]
 *
 * A positional DAG-CBOR array rather than a map: the project's one codec and bounded decoder,
 * versioned by its first element, without the ~25 bytes (40 characters) that key names would add.
 * The addresses are multiaddr text without their trailing `/p2p/<peer ID>` (the key gives it back):
 * libp2p's binary multiaddr codec is kept inside net/, and the suffix is most of each address.
 * The 4-byte checksum turns a typo into "mistyped" here rather than a failed dial or a refused
 * secret later (a random edit passes it with probability 2^-32).
 */
import * as cbor from '@ipld/dag-cbor'
import {
  DEFAULT_PAIRING_CODE_MAX_ADDRESSES,
  DEFAULT_PAIRING_CODE_TTL_MS,
  PAIRING_CODE_MAX_ADDRESS_CHARS,
  PAIRING_CODE_MAX_CHARS,
} from '../../core/constants.ts'
import { concatBytes, equalBytes, randomBytes, sha256 } from '../../core/crypto.ts'
import { InvalidPairingCodeError } from '../../core/errors.ts'
import { ed25519PeerId } from '../../core/signer.ts'
import { decodeBase32, encodeBase32 } from './base32.ts'

/** A decoded pairing code. */
export interface PairingCode {
  /** The new device's Ed25519 public key (32 bytes). */
  publicKey: Uint8Array
  /** Its peer ID, the name of `publicKey` (not on the wire). */
  peerId: string
  /** Multiaddrs to dial it, each ending in `/p2p/<peerId>`. May be empty: dial by peer ID. */
  addresses: string[]
  /** The one-time secret (16 bytes). */
  secret: Uint8Array
  /** When the new device stops accepting it, ms since the epoch (whole seconds on the wire). */
  expiresAt: number
}

export interface CreatePairingCodeInit {
  /** The new device's Ed25519 public key. */
  publicKey: Uint8Array
  /** Its dialable multiaddrs, best first; those past `maxAddresses` or too long are left out. */
  addresses: string[]
  /** How long the code is valid, ms. Default DEFAULT_PAIRING_CODE_TTL_MS (10 minutes). */
  ttlMs?: number
  /** Addresses a code carries at most. Default DEFAULT_PAIRING_CODE_MAX_ADDRESSES. */
  maxAddresses?: number
  /** Clock, ms since the epoch (tests). */
  now?: () => number
}

export interface CreatedPairingCode {
  /** The code as a person reads, types or scans it. */
  code: string
  secret: Uint8Array
  /** Expiry, ms since the epoch, rounded down to a whole second (what the code says). */
  expiresAt: number
}

const VERSION = 1
const SECRET_BYTES = 16
const KEY_BYTES = 32
const CHECKSUM_BYTES = 4
/** An address that still names a peer once our own suffix is off (not a relay's circuit): another peer's. */
const OTHER_PEER = /\/p2p\/[^/]+$/

export function createPairingCode(init: CreatePairingCodeInit): CreatedPairingCode {
  const now = (init.now ?? Date.now)()
  const expiresAt = Math.floor((now + (init.ttlMs ?? DEFAULT_PAIRING_CODE_TTL_MS)) / 1000) * 1000
  const secret = randomBytes(SECRET_BYTES)
  const peerId = ed25519PeerId(init.publicKey)
  const addresses = init.addresses
    .map((a) => stripPeer(a, peerId))
    .filter((a) => a.startsWith('/') && a.length <= PAIRING_CODE_MAX_ADDRESS_CHARS && !OTHER_PEER.test(a))
    .slice(0, init.maxAddresses ?? DEFAULT_PAIRING_CODE_MAX_ADDRESSES)
  for (;;) {
    const body = cbor.encode([VERSION, init.publicKey, secret, expiresAt / 1000, addresses])
    const code = encodeBase32(concatBytes(body, sha256(body).subarray(0, CHECKSUM_BYTES)))
    // Every decoder refuses a longer text: leave out the last addresses until it fits.
    if (code.length <= PAIRING_CODE_MAX_CHARS || addresses.length === 0) return { code, secret, expiresAt }
    addresses.pop()
  }
}

/**
 * Decode a pairing code as typed or scanned. Throws InvalidPairingCodeError naming what is wrong;
 * refuses a text longer than `maxChars` before decoding anything.
 */
export function decodePairingCode(text: string, options: { maxChars?: number } = {}): PairingCode {
  const maxChars = options.maxChars ?? PAIRING_CODE_MAX_CHARS
  if (typeof text !== 'string') throw new InvalidPairingCodeError('a pairing code is text')
  if (text.length > maxChars) throw new InvalidPairingCodeError(`a pairing code is at most ${maxChars} characters`)
  const bytes = decodeBase32(text.trim())
  if (bytes.length <= CHECKSUM_BYTES) throw new InvalidPairingCodeError('the pairing code is cut short')
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES)
  if (!equalBytes(sha256(body).subarray(0, CHECKSUM_BYTES), bytes.subarray(bytes.length - CHECKSUM_BYTES))) {
    throw new InvalidPairingCodeError('the pairing code is mistyped (its checksum does not match)')
  }
  let value: unknown
  try {
    value = cbor.decode(body)
  } catch {
    throw new InvalidPairingCodeError('the pairing code is not a Lateral pairing code')
  }
  if (!Array.isArray(value) || value[0] !== VERSION) {
    throw new InvalidPairingCodeError('the pairing code is of an unknown version (update Lateral?)')
  }
  const [, publicKey, secret, expires, addresses] = value as unknown[]
  if (value.length !== 5) throw new InvalidPairingCodeError('the pairing code has extra or missing fields')
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_BYTES) {
    throw new InvalidPairingCodeError('the pairing code has no device key')
  }
  if (!(secret instanceof Uint8Array) || secret.length !== SECRET_BYTES) {
    throw new InvalidPairingCodeError('the pairing code has no secret')
  }
  if (typeof expires !== 'number' || !Number.isSafeInteger(expires) || expires < 0) {
    throw new InvalidPairingCodeError('the pairing code has no expiry')
  }
  if (
    !Array.isArray(addresses) ||
    addresses.some((a) => typeof a !== 'string' || !a.startsWith('/') || a.length > PAIRING_CODE_MAX_ADDRESS_CHARS)
  ) {
    throw new InvalidPairingCodeError('the pairing code has malformed addresses')
  }
  const peerId = ed25519PeerId(publicKey)
  return {
    publicKey,
    peerId,
    addresses: (addresses as string[]).map((a) => `${a}/p2p/${peerId}`),
    secret,
    expiresAt: expires * 1000,
  }
}

/** The address without its trailing `/p2p/<peerId>` (the code's key gives it back). */
function stripPeer(address: string, peerId: string): string {
  const suffix = `/p2p/${peerId}`
  return address.endsWith(suffix) ? address.slice(0, -suffix.length) : address
}
