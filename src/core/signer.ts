/**
 * Who signs and who decrypts, without handing out a private key: services receive a `Signer`
 * (and, where they open sealed data, a `KeyAgreement`) as components; only `identity/` holds the
 * device key behind them. Also the two public names of an Ed25519 key that Lateral uses: the
 * libp2p peer ID and the `did:key`, computed here without libp2p (core sits below `net/`).
 *
 * @example
 * ```ts
 * const { bytes, cid } = await signRecord(signer, payload, { type: 'lateral/topic@1.0.0' })
 * const shared = keyAgreement.agree(theirX25519PublicKey)
 * ```
 */
import { base58btc } from 'multiformats/bases/base58'
import { InvalidInputError } from './errors.ts'

/** An Ed25519 signing key that stays where it is. */
export interface Signer {
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array
  /** The key's libp2p peer ID (`12D3KooW...`): `from` in topic and direct messages. */
  readonly peerId: string
  /** The key's `did:key` (`did:key:z6Mk...`): how UCAN delegations and identity logs name it. */
  readonly did: string
  /**
   * Sign `message` (pure Ed25519, RFC 8032). Asynchronous so that a key in another process,
   * a hardware token or a non-extractable WebCrypto key can implement it.
   */
  sign(message: Uint8Array): Promise<Uint8Array>
}

/** X25519 key agreement with the device's key, for opening what was sealed to it. */
export interface KeyAgreement {
  /** This side's 32-byte X25519 public key. */
  readonly x25519PublicKey: Uint8Array
  /**
   * The X25519 shared secret with `theirPublicKey` (RFC 7748). Throws InvalidInputError for a
   * low-order public key (the all-zero shared secret), which a hostile sender may send.
   */
  agree(theirPublicKey: Uint8Array): Uint8Array
}

/** Multicodec of an Ed25519 public key (varint 0xed), the prefix inside a `did:key`. */
const ED25519_PUB_MULTICODEC = Uint8Array.of(0xed, 0x01)
/**
 * A libp2p peer ID of an Ed25519 key is the identity multihash (0x00, length 36) of the
 * protobuf `PublicKey { Type: Ed25519 (1), Data: 32 bytes }`.
 */
const PEER_ID_PREFIX = Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20)
const DID_KEY_PREFIX = 'did:key:z'
const KEY_LENGTH = 32

export function ed25519PeerId(publicKey: Uint8Array): string {
  checkKeyLength(publicKey)
  return base58btc.baseEncode(prefixed(PEER_ID_PREFIX, publicKey))
}

export function ed25519Did(publicKey: Uint8Array): string {
  checkKeyLength(publicKey)
  return `${DID_KEY_PREFIX}${base58btc.baseEncode(prefixed(ED25519_PUB_MULTICODEC, publicKey))}`
}

/** The Ed25519 public key inside a peer ID; InvalidInputError for anything else (RSA, secp256k1, junk). */
export function publicKeyFromPeerId(peerId: string): Uint8Array {
  return unprefixed(decodeBase58(peerId, 'peer ID'), PEER_ID_PREFIX, `peer ID ${peerId} has no embedded Ed25519 key`)
}

/** The Ed25519 public key of a `did:key`; InvalidInputError for other methods or key types. */
export function publicKeyFromDid(did: string): Uint8Array {
  if (!did.startsWith(DID_KEY_PREFIX)) throw new InvalidInputError(`${did} is not a did:key`)
  const bytes = decodeBase58(did.slice(DID_KEY_PREFIX.length), 'did:key')
  return unprefixed(bytes, ED25519_PUB_MULTICODEC, `${did} is not an Ed25519 did:key`)
}

function checkKeyLength(publicKey: Uint8Array): void {
  if (publicKey.length !== KEY_LENGTH) throw new InvalidInputError('an Ed25519 public key is 32 bytes')
}

function prefixed(prefix: Uint8Array, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + key.length)
  out.set(prefix, 0)
  out.set(key, prefix.length)
  return out
}

function unprefixed(bytes: Uint8Array, prefix: Uint8Array, error: string): Uint8Array {
  if (bytes.length !== prefix.length + KEY_LENGTH || prefix.some((b, i) => bytes[i] !== b)) {
    throw new InvalidInputError(error)
  }
  return bytes.slice(prefix.length)
}

function decodeBase58(text: string, what: string): Uint8Array {
  // Longer than any Ed25519 name: refuse before decoding (base58 decoding is quadratic).
  if (text.length > 64) throw new InvalidInputError(`${what} is too long`)
  try {
    return base58btc.baseDecode(text)
  } catch {
    throw new InvalidInputError(`${what} is not base58btc`)
  }
}
