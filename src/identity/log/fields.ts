/**
 * Field checks shared by the entry validators: each takes what DAG-CBOR decoded (unknown) and
 * returns it typed, or throws InvalidInputError naming the field. Strict on purpose: a value has
 * one accepted form (a peer ID spelled one way, names in NFC), so equal things compare equal.
 */
import { CID } from 'multiformats/cid'
import { IDENTITY_MAX_PREV } from '../../core/constants.ts'
import { x25519Shared } from '../../core/crypto.ts'
import { InvalidInputError } from '../../core/errors.ts'
import { ed25519PeerId, publicKeyFromPeerId } from '../../core/signer.ts'

const DAG_CBOR = 0x71
const SHA2_256 = 0x12
/** Any scalar will do: a low-order point gives the all-zero secret for every clamped scalar. */
const PROBE_SCALAR = new Uint8Array(32).fill(0x5a)
const CONTROL = /\p{Cc}/u

export type Fields = Record<string, unknown>

/** A plain map with exactly `required` keys plus any of `optional`. */
export function exactMap(value: unknown, required: string[], optional: string[], what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new InvalidInputError(`${what} is not a map`)
  }
  if (CID.asCID(value) !== null) throw new InvalidInputError(`${what} is not a map`)
  const map = value as Fields
  for (const key of required) {
    if (!Object.hasOwn(map, key)) throw new InvalidInputError(`${what} lacks "${key}"`)
  }
  for (const key of Object.keys(map)) {
    if (!required.includes(key) && !optional.includes(key))
      throw new InvalidInputError(`${what} has unknown key "${key}"`)
  }
  return map
}

/** An Ed25519 peer ID in its one canonical spelling. */
export function peerIdField(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new InvalidInputError(`${what} is not a peer ID`)
  let key: Uint8Array
  try {
    key = publicKeyFromPeerId(value)
  } catch {
    throw new InvalidInputError(`${what} is not an Ed25519 peer ID`)
  }
  if (ed25519PeerId(key) !== value) throw new InvalidInputError(`${what} is not a canonical peer ID`)
  return value
}

export function uintField(value: unknown, what: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidInputError(`${what} must be an integer >= ${min}`)
  }
  return value
}

export function bytesField(value: unknown, what: string, length: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    throw new InvalidInputError(`${what} must be ${length} bytes`)
  }
  return value
}

/**
 * An X25519 public key that someone can seal to: 32 bytes, not of low order (a low-order key
 * makes every shared secret zero, so a rotation could never include that device).
 */
export function x25519Field(value: unknown, what: string): Uint8Array {
  const key = bytesField(value, what, 32)
  try {
    x25519Shared(PROBE_SCALAR, key)
  } catch {
    throw new InvalidInputError(`${what} is an X25519 key of low order`)
  }
  return key
}

/** Text in NFC, without control characters, of `min` to `max` code points. */
export function textField(value: unknown, what: string, min: number, max: number): string {
  if (typeof value !== 'string') throw new InvalidInputError(`${what} is not text`)
  // Counting code points needs at most 4 bytes each; refuse absurd lengths before iterating.
  if (value.length > max * 2) throw new InvalidInputError(`${what} is longer than ${max} characters`)
  const length = [...value].length
  if (length < min || length > max) throw new InvalidInputError(`${what} must be ${min} to ${max} characters`)
  if (value.normalize('NFC') !== value) throw new InvalidInputError(`${what} is not in Unicode NFC`)
  if (CONTROL.test(value)) throw new InvalidInputError(`${what} has control characters`)
  return value
}

/** A CID of a signed record: CIDv1, DAG-CBOR, SHA2-256. */
export function recordCidField(value: unknown, what: string): CID {
  const cid = CID.asCID(value)
  if (cid === null || cid.version !== 1 || cid.code !== DAG_CBOR || cid.multihash.code !== SHA2_256) {
    throw new InvalidInputError(`${what} is not the CID of a signed record`)
  }
  if (cid.multihash.digest.length !== 32) throw new InvalidInputError(`${what} has a bad digest`)
  return cid
}

/** The `prev` list: 1..IDENTITY_MAX_PREV record CIDs, strictly ascending by their string form. */
export function prevField(value: unknown): { cids: CID[]; strings: string[] } {
  if (!Array.isArray(value) || value.length === 0 || value.length > IDENTITY_MAX_PREV) {
    throw new InvalidInputError(`"prev" must list 1 to ${IDENTITY_MAX_PREV} CIDs`)
  }
  const cids = value.map((v) => recordCidField(v, 'a "prev" entry'))
  const strings = cids.map((c) => c.toString())
  for (let i = 1; i < strings.length; i++) {
    if ((strings[i - 1] as string) >= (strings[i] as string)) {
      throw new InvalidInputError('"prev" must be sorted, without duplicates')
    }
  }
  return { cids, strings }
}

/** A name as a person typed it, in the form entries carry: NFC, without surrounding spaces. */
export function normaliseName(name: string): string {
  return name.normalize('NFC').trim()
}
