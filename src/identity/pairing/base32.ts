/**
 * Crockford's base32 (https://www.crockford.com/base32.html), the alphabet of pairing codes.
 * Chosen over RFC 4648 base32 because a person may read a code aloud or type it: the alphabet
 * leaves out I, L, O and U, decoding is case-insensitive and takes O for 0 and I/L for 1, and
 * hyphens and spaces (groups a person types) are ignored. Written in upper case, a code uses only
 * characters of a QR code's alphanumeric mode (5.5 bits per character instead of 8 in byte mode),
 * so the QR code of the same code is smaller.
 */
import { InvalidPairingCodeError } from '../../core/errors.ts'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
const VALUES = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]))
for (const [alias, value] of [
  ['O', 0],
  ['I', 1],
  ['L', 1],
] as const)
  VALUES.set(alias, value)

/** Upper-case Crockford base32 of `bytes`, without padding or check symbol. */
export function encodeBase32(bytes: Uint8Array): string {
  let out = ''
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += ALPHABET[(buffer >> bits) & 31]
    }
    buffer &= (1 << bits) - 1
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31]
  return out
}

/**
 * Bytes of a Crockford base32 text (any case; hyphens and white space ignored). Refuses any other
 * character, and trailing bits that are not zero (so one text decodes from one byte string only).
 */
export function decodeBase32(text: string): Uint8Array {
  const out: number[] = []
  let buffer = 0
  let bits = 0
  for (const char of text.toUpperCase()) {
    if (char === '-' || char === ' ' || char === '\n' || char === '\t' || char === '\r') continue
    const value = VALUES.get(char)
    if (value === undefined) throw new InvalidPairingCodeError(`the pairing code holds "${char}", not a code character`)
    buffer = (buffer << 5) | value
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out.push((buffer >> bits) & 0xff)
      buffer &= (1 << bits) - 1
    }
  }
  if (bits >= 5 || buffer !== 0) throw new InvalidPairingCodeError('the pairing code is cut short or mistyped')
  return Uint8Array.from(out)
}
