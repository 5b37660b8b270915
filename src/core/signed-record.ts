/**
 * Signed records: the one envelope for every signed thing Lateral stores or sends (topic
 * messages and direct messages now; identity entries, delegations, revocations, receipts and
 * fork proofs next). It is the UCAN 1.0 envelope, so UCAN delegations are signed records too:
 *
 * ```
 * envelope    = [ signature: bytes(64), sig-payload ]          canonical DAG-CBOR
 * sig-payload = { "h": varsig header, <type tag>: payload }    signature = Ed25519(sig-payload bytes)
 * ID          = CIDv1(dag-cbor, sha2-256 of the envelope bytes)
 * ```
 *
 * Verification, in this order, and nothing is returned before the signature checks:
 * 1. the size bound, before any decoding;
 * 2. DAG-CBOR decoding (strict: minimal integers, no indefinite lengths, no duplicate keys);
 * 3. canonical form: re-encoding the decoded value must give the received bytes, byte for byte,
 *    so one value has exactly one encoding and one ID, and the signed bytes are a fixed slice;
 * 4. the shape: a 2-array, a 64-byte signature, a map of exactly `h` and the expected type tag;
 * 5. `h` is the one header accepted: Ed25519 over DAG-CBOR;
 * 6. the caller's payload validator, then the caller's lookup of the signer's key in the payload;
 * 7. Ed25519, strict RFC 8032 (see `ed25519Verify`), over the sig-payload bytes as received.
 *
 * @example
 * ```ts
 * const { bytes, cid } = await signRecord(signer, { from: signer.peerId, n: 1 }, { type: 'example@1' })
 * const record = verifyRecord(bytes, {
 *   maxBytes: 4096,
 *   type: 'example@1',
 *   validate: (p) => checkExample(p),               // throws InvalidInputError
 *   publicKeyOf: (p) => publicKeyFromPeerId(p.from),
 * })
 * ```
 */
import * as cbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { ed25519Verify, equalBytes, sha256 } from './crypto.ts'
import { InvalidInputError, LateralError } from './errors.ts'
import type { Signer } from './signer.ts'

/**
 * The varsig header of Ed25519 signatures over DAG-CBOR (varsig v1: prefix 0x34, version 1,
 * Ed25519 key 0xed, EdDSA 0xed, SHA2-512 0x13, DAG-CBOR 0x71), as in the UCAN 1.0 fixtures.
 */
export const ED25519_DAG_CBOR_HEADER = Uint8Array.of(0x34, 0x01, 0xed, 0x01, 0xed, 0x01, 0x13, 0x71)

const DAG_CBOR = 0x71
const SHA2_256 = 0x12
const SIGNATURE_LENGTH = 64
/** Canonical CBOR of the envelope starts with: array of 2 (0x82), byte string of 64 (0x58 0x40). */
const ENVELOPE_PREFIX = Uint8Array.of(0x82, 0x58, SIGNATURE_LENGTH)
/** The sig-payload starts after the prefix and the signature. */
const SIG_PAYLOAD_OFFSET = ENVELOPE_PREFIX.length + SIGNATURE_LENGTH

export interface SignedRecord<T> {
  /** The type tag the record was signed under (e.g. `lateral/topic@1.0.0`). */
  type: string
  /** The validated payload. */
  payload: T
  /** The signer's 32-byte Ed25519 public key, as `publicKeyOf` named it. */
  signer: Uint8Array
  signature: Uint8Array
  /** The envelope bytes as received (or as signed): store and forward these, never a re-encoding. */
  bytes: Uint8Array
  /** The record's ID. */
  cid: CID
}

export interface SignOptions {
  /** The type tag: names the payload schema and its version. */
  type: string
}

export interface VerifyOptions<T> {
  /** Largest envelope accepted, checked before decoding. */
  maxBytes: number
  /** The only type tag accepted. */
  type: string
  /** Check the decoded payload's shape; throw InvalidInputError naming what is wrong. */
  validate: (payload: unknown) => T
  /** The Ed25519 public key that must have signed this payload (e.g. of its `from` or `iss`). */
  publicKeyOf: (payload: T) => Uint8Array
}

/** Sign `payload` under `type`; returns the envelope bytes, its CID and the record. */
export async function signRecord<T>(signer: Signer, payload: T, options: SignOptions): Promise<SignedRecord<T>> {
  checkType(options.type)
  const sigPayload = cbor.encode({ h: ED25519_DAG_CBOR_HEADER, [options.type]: payload })
  const signature = await signer.sign(sigPayload)
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) {
    throw new LateralError('the signer returned something other than a 64-byte Ed25519 signature')
  }
  // The envelope is assembled from the signed bytes themselves, so what goes out is what was signed.
  const bytes = new Uint8Array(SIG_PAYLOAD_OFFSET + sigPayload.length)
  bytes.set(ENVELOPE_PREFIX, 0)
  bytes.set(signature, ENVELOPE_PREFIX.length)
  bytes.set(sigPayload, SIG_PAYLOAD_OFFSET)
  return { type: options.type, payload, signer: signer.publicKey, signature, bytes, cid: recordCid(bytes) }
}

/**
 * Verify an envelope and return its record; throws InvalidInputError (and nothing else) naming
 * the first check that failed.
 */
export function verifyRecord<T>(bytes: Uint8Array, options: VerifyOptions<T>): SignedRecord<T> {
  if (!(bytes instanceof Uint8Array)) throw new InvalidInputError('a signed record is bytes')
  if (bytes.length > options.maxBytes) {
    throw new InvalidInputError(`signed record of ${bytes.length} bytes exceeds the limit of ${options.maxBytes}`)
  }
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch (err) {
    // Includes RangeError from deeply nested input: every decoding failure is the peer's.
    throw new InvalidInputError(`signed record is not DAG-CBOR: ${(err as Error).message}`)
  }
  if (!isCanonical(value, bytes)) throw new InvalidInputError('signed record is not canonical DAG-CBOR')
  if (!Array.isArray(value) || value.length !== 2) throw new InvalidInputError('signed record is not a 2-array')
  const [signature, sigPayload] = value as [unknown, unknown]
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) {
    throw new InvalidInputError('signed record has no 64-byte signature')
  }
  if (!isMap(sigPayload)) throw new InvalidInputError('signed record payload is not a map')
  const keys = Object.keys(sigPayload)
  if (keys.length !== 2 || !Object.hasOwn(sigPayload, 'h') || !Object.hasOwn(sigPayload, options.type)) {
    throw new InvalidInputError(`signed record is not of type ${options.type}`)
  }
  const header = sigPayload.h
  if (!(header instanceof Uint8Array) || !equalBytes(header, ED25519_DAG_CBOR_HEADER)) {
    throw new InvalidInputError('signed record header is not Ed25519 over DAG-CBOR')
  }
  const payload = guarded('payload', () => options.validate(sigPayload[options.type]))
  const publicKey = guarded('signer', () => options.publicKeyOf(payload))
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new InvalidInputError('signed record names no Ed25519 signer')
  }
  // Canonical form was checked above, so the signed bytes are exactly this slice of what came in.
  if (!equalBytes(bytes.subarray(0, ENVELOPE_PREFIX.length), ENVELOPE_PREFIX)) {
    throw new InvalidInputError('signed record envelope is malformed')
  }
  if (!ed25519Verify(publicKey, bytes.subarray(SIG_PAYLOAD_OFFSET), signature)) {
    throw new InvalidInputError("signature does not match the claimed signer's key")
  }
  return { type: options.type, payload, signer: publicKey, signature, bytes, cid: recordCid(bytes) }
}

/** The ID of an envelope: CIDv1, dag-cbor, sha2-256 of its bytes. */
export function recordCid(bytes: Uint8Array): CID {
  return CID.createV1(DAG_CBOR, createDigest(SHA2_256, sha256(bytes)))
}

function isCanonical(value: unknown, bytes: Uint8Array): boolean {
  try {
    return equalBytes(cbor.encode(value), bytes)
  } catch {
    return false
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    CID.asCID(value) === null
  )
}

function checkType(type: string): void {
  if (typeof type !== 'string' || type.length === 0 || type.length > 100 || type === 'h') {
    throw new InvalidInputError(`invalid record type tag ${JSON.stringify(type)}`)
  }
}

/** Run a caller's check; whatever it throws becomes InvalidInputError, the decoder's one error. */
function guarded<R>(what: string, fn: () => R): R {
  try {
    return fn()
  } catch (err) {
    if (err instanceof InvalidInputError) throw err
    throw new InvalidInputError(`signed record ${what} refused: ${(err as Error)?.message ?? String(err)}`)
  }
}
