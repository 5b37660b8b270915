/**
 * Crypto helpers with one pinned mode each: scrypt from node:crypto (native, same output as
 * any RFC 7914 implementation), XChaCha20-Poly1305 and Ed25519 from the audited noble libraries.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes as nodeRandomBytes,
  scrypt as nodeScrypt,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { ED25519_VERIFY_KEY_CACHE } from './constants.ts'

export interface ScryptParams {
  logN: number
  r: number
  p: number
}

export function randomBytes(length: number): Uint8Array {
  return new Uint8Array(nodeRandomBytes(length))
}

export function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest())
}

/** Derive a 32-byte key from a passphrase (NFKC-normalised UTF-8) with scrypt. */
export async function scrypt(passphrase: string, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array> {
  const N = 2 ** params.logN
  const maxmem = 128 * N * params.r + 1024 * 1024 * 16
  const secret = Buffer.from(passphrase.normalize('NFKC'), 'utf8')
  return new Promise((resolve, reject) => {
    nodeScrypt(secret, salt, 32, { N, r: params.r, p: params.p, maxmem }, (err, key) => {
      if (err != null) reject(err)
      else resolve(new Uint8Array(key))
    })
  })
}

/** Encrypt with XChaCha20-Poly1305; `aad` is authenticated, not encrypted. */
export function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  return xchacha20poly1305(key, nonce, aad).encrypt(plaintext)
}

/** Decrypt with XChaCha20-Poly1305; returns undefined when authentication fails. */
export function open(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
): Uint8Array | undefined {
  try {
    return xchacha20poly1305(key, nonce, aad).decrypt(ciphertext)
  } catch {
    return undefined
  }
}

export const ed25519PublicKey = (seed: Uint8Array): Uint8Array => ed25519.getPublicKey(seed)

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Constant-time comparison of two byte arrays. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}

/** PKCS#8 DER prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Uint8Array.of(
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
)
/** Keys made from seeds already seen: building one costs more than a signature. */
const signingKeys = new WeakMap<Uint8Array, KeyObject>()

/**
 * Ed25519 signature (RFC 8032: deterministic, so the bytes are the same whoever computes them).
 * Signed with OpenSSL through node:crypto, about 20 times faster than in JavaScript; verification
 * stays in `ed25519Verify`, whose strict mode is Lateral's one rule.
 */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  let key = signingKeys.get(seed)
  if (key === undefined) {
    key = createPrivateKey({ key: Buffer.from(concatBytes(ED25519_PKCS8_PREFIX, seed)), format: 'der', type: 'pkcs8' })
    signingKeys.set(seed, key)
  }
  return new Uint8Array(nodeSign(null, message, key))
}

/**
 * Ed25519 verification, strict RFC 8032 / FIPS 186-5 (`zip215: false`, the one mode Lateral uses):
 * non-canonical encodings of the key or of R, s >= L and small-order keys are refused, so no
 * third party can alter a signature's bytes and keep it valid (a signed record has one ID), and
 * no key verifies every message. noble's default for ed25519 is the permissive ZIP-215.
 *
 * The verdict is noble's strict one. A fast path first asks OpenSSL (about 20 times faster; the
 * ledger verifies a receipt every few MiB served): OpenSSL checks s < L and the cofactorless
 * equation [s]B = R + [k]A against the exact bytes of R, which implies noble's cofactored
 * equation and a canonical R; the key's strict checks (canonical, not of small order) are
 * noble's own, done once per key. So OpenSSL accepting means noble accepts. Whatever OpenSSL
 * refuses goes to noble, which decides (signatures valid only under the cofactored equation
 * stay valid).
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length === 32 && signature.length === 64) {
    const key = verifyingKey(publicKey)
    if (key === false) return false // not canonical, or of small order: noble refuses it too
    try {
      if (key !== undefined && nodeVerify(null, message, key, signature)) return true
    } catch {
      // OpenSSL could not check it: noble decides
    }
  }
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false })
  } catch {
    return false
  }
}

/** SubjectPublicKeyInfo DER prefix of an Ed25519 public key (RFC 8410): the 32-byte key follows. */
const ED25519_SPKI_PREFIX = Uint8Array.of(0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00)
/** Keys checked so far: the OpenSSL key, or false for a key strict mode refuses. Oldest dropped first. */
const verifyingKeys = new Map<string, KeyObject | false>()

/** OpenSSL's key for `publicKey`; false if strict mode refuses the key; undefined if OpenSSL cannot take it. */
function verifyingKey(publicKey: Uint8Array): KeyObject | false | undefined {
  const id = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString('hex')
  const known = verifyingKeys.get(id)
  if (known !== undefined) return known
  let point: ReturnType<typeof ed25519.Point.fromBytes> | undefined
  try {
    // noble's strict decoding (y < p, no negative zero) and its small-order test, as in verify().
    point = ed25519.Point.fromBytes(publicKey, false)
  } catch {
    point = undefined
  }
  let key: KeyObject | false
  if (point === undefined || point.isSmallOrder()) {
    key = false
  } else {
    try {
      key = createPublicKey({
        key: Buffer.from(concatBytes(ED25519_SPKI_PREFIX, publicKey)),
        format: 'der',
        type: 'spki',
      })
    } catch {
      return undefined
    }
  }
  if (verifyingKeys.size >= ED25519_VERIFY_KEY_CACHE) {
    const oldest = verifyingKeys.keys().next().value
    if (oldest !== undefined) verifyingKeys.delete(oldest)
  }
  verifyingKeys.set(id, key)
  return key
}

/** The X25519 key pair that belongs to an Ed25519 device key (birational map, RFC 7748). */
export function x25519FromEd25519(seed: Uint8Array): { secret: Uint8Array; publicKey: Uint8Array } {
  const secret = ed25519.utils.toMontgomerySecret(seed)
  return { secret, publicKey: x25519.getPublicKey(secret) }
}

export function x25519PublicFromEd25519(publicKey: Uint8Array): Uint8Array {
  return ed25519.utils.toMontgomery(publicKey)
}

export function x25519Shared(secret: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return x25519.getSharedSecret(secret, publicKey)
}

export function x25519Keygen(): { secret: Uint8Array; publicKey: Uint8Array } {
  const secret = randomBytes(32)
  return { secret, publicKey: x25519.getPublicKey(secret) }
}

export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: string, length = 32): Uint8Array {
  return hkdf(nobleSha256, ikm, salt, new TextEncoder().encode(info), length)
}
