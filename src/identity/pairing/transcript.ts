/**
 * The cryptography of `/lateral/pair/1.0.0` (docs/protocols/pairing.md): commitments,
 * the transcript, the short string both people compare and the key confirmation that proves the
 * code's secret. Pure functions of their inputs, so both sides compute the same bytes.
 *
 *   commitment  = SHA-256("lateral/pair/1 commit" || role || publicKey || nonce)
 *   transcript  = SHA-256("lateral/pair/1 transcript" || codeId || keyI || nonceI || keyR || nonceR)
 *   shortString = HKDF-SHA256(ikm = secret, salt = transcript, "lateral/pair/1 sas", 8 B) mod 10^12
 *   macKey      = HKDF-SHA256(ikm = secret, salt = transcript, "lateral/pair/1 mac", 32 B)
 *   mac(role)   = HMAC-SHA256(macKey, "lateral/pair/1 key" || role)        in `mac`: proves the secret
 *   done(role)  = HMAC-SHA256(macKey, "lateral/pair/1 confirmed" || role)  in `confirm`: a person confirmed
 *
 * Every field hashed is of fixed length, so plain concatenation is unambiguous.
 */
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { concatBytes, hkdfSha256, sha256 } from '../../core/crypto.ts'

export type PairingRole = 'initiator' | 'responder'

export const NONCE_BYTES = 32
export const COMMITMENT_BYTES = 32
export const CODE_ID_BYTES = 16
export const MAC_BYTES = 32
export const KEY_BYTES = 32

const encoder = new TextEncoder()
const ROLE: Record<PairingRole, Uint8Array> = { initiator: encoder.encode('I'), responder: encoder.encode('R') }
const COMMIT = encoder.encode('lateral/pair/1 commit')
const TRANSCRIPT = encoder.encode('lateral/pair/1 transcript')
const PURPOSE = {
  key: encoder.encode('lateral/pair/1 key'),
  confirmed: encoder.encode('lateral/pair/1 confirmed'),
}
/** 12 decimal digits: 10^12 ~ 2^39.86. */
const SHORT_STRING_MODULUS = 10n ** 12n

/**
 * What the old device sends to name the code it uses, without sending the secret: the new device
 * may wait on several codes. Knowing it does not help to find the secret (HKDF is one-way).
 */
export function codeIdOf(secret: Uint8Array): Uint8Array {
  return hkdfSha256(secret, new Uint8Array(0), 'lateral/pair/1 code-id', CODE_ID_BYTES)
}

/** A side's commitment to its key and nonce, sent before either side reveals them. */
export function commitmentOf(role: PairingRole, publicKey: Uint8Array, nonce: Uint8Array): Uint8Array {
  return sha256(concatBytes(COMMIT, ROLE[role], publicKey, nonce))
}

export interface TranscriptInput {
  codeId: Uint8Array
  initiatorKey: Uint8Array
  initiatorNonce: Uint8Array
  responderKey: Uint8Array
  responderNonce: Uint8Array
}

/** The hash of everything both sides revealed: the salt of every key derived from the secret. */
export function transcriptHashOf(t: TranscriptInput): Uint8Array {
  return sha256(concatBytes(TRANSCRIPT, t.codeId, t.initiatorKey, t.initiatorNonce, t.responderKey, t.responderNonce))
}

/**
 * The short string both people compare: three groups of four decimal digits (`0392-5821-7740`),
 * about 40 bits. Eight bytes are reduced modulo 10^12, so the bias is below 10^-7.
 */
export function shortStringOf(secret: Uint8Array, transcriptHash: Uint8Array): string {
  const bytes = hkdfSha256(secret, transcriptHash, 'lateral/pair/1 sas', 8)
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  const digits = (n % SHORT_STRING_MODULUS).toString().padStart(12, '0')
  return `${digits.slice(0, 4)}-${digits.slice(4, 8)}-${digits.slice(8)}`
}

/** Two short strings as people type them: digits compared, spaces and hyphens ignored. */
export function sameShortString(a: string, b: string): boolean {
  const digits = (s: string) => s.replace(/[\s-]/g, '')
  return /^\d{12}$/.test(digits(a)) && digits(a) === digits(b)
}

/**
 * A side's proof that it holds the code's secret, bound to this transcript and its role: `key`
 * in the `mac` message; `confirmed` in the `confirm` message, so that whoever sits on the path
 * without the secret cannot forge a person's confirmation.
 */
export function keyConfirmationOf(
  secret: Uint8Array,
  transcriptHash: Uint8Array,
  role: PairingRole,
  purpose: 'key' | 'confirmed' = 'key',
): Uint8Array {
  const key = hkdfSha256(secret, transcriptHash, 'lateral/pair/1 mac')
  return hmac(nobleSha256, key, concatBytes(PURPOSE[purpose], ROLE[role]))
}
