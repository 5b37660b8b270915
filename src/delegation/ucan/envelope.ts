/**
 * UCAN tokens are signed records (core/signed-record.ts: canonical DAG-CBOR envelope, the one
 * Ed25519 varsig header, strict RFC 8032 verification), so a token has exactly one valid form.
 * This maps that module's single InvalidInputError to the UCAN refusals: `InvalidSignature` when
 * everything but the signature checked out, `Malformed` for anything else.
 */
import * as cbor from '@ipld/dag-cbor'
import { equalBytes } from '../../core/crypto.ts'
import { DelegationError, type DelegationErrorLink, InvalidInputError } from '../../core/errors.ts'
import { recordCid, type SignedRecord, signRecord, verifyRecord } from '../../core/signed-record.ts'
import { publicKeyFromDid, type Signer } from '../../core/signer.ts'

const SIGNATURE_LENGTH = 64

export interface TokenOptions<T> {
  /** The envelope's type tag, e.g. `ucan/dlg@1.0.0`. */
  type: string
  maxBytes: number
  /** Check the payload's shape; throws InvalidInputError. */
  validate: (payload: unknown) => T
  /** The issuer's `did:key`, whose key must have signed. */
  issuerOf: (payload: T) => string
  /** Where a refusal applies, for the error. */
  link: DelegationErrorLink
}

/** Verify a token's envelope, shape and signature; DelegationError (and nothing else) if refused. */
export function verifyToken<T>(bytes: Uint8Array, options: TokenOptions<T>): SignedRecord<T> {
  if (!(bytes instanceof Uint8Array)) {
    throw new DelegationError('a UCAN token is bytes', 'Malformed', { link: options.link })
  }
  try {
    return verify(bytes, options, options.maxBytes)
  } catch (err) {
    if (!(err instanceof TokenRefused)) throw err
    const code = err.keyKnown || onlySignatureLength(bytes, options) ? 'InvalidSignature' : 'Malformed'
    const cid = bytes.length <= options.maxBytes ? recordCid(bytes).toString() : undefined
    const what = typeof options.link === 'number' ? `delegation ${options.link}` : options.link
    throw new DelegationError(`${what}${cid === undefined ? '' : ` ${cid}`}: ${err.message}`, code, {
      link: options.link,
      ...(cid === undefined ? {} : { cid }),
    })
  }
}

/** Sign a payload after checking it as a verifier would, and refuse to make a token others would refuse. */
export async function signToken<T>(
  signer: Signer,
  payload: T,
  options: Pick<TokenOptions<T>, 'type' | 'maxBytes' | 'validate'>,
): Promise<SignedRecord<T>> {
  options.validate(payload)
  const record = await signRecord(signer, payload, { type: options.type })
  if (record.bytes.length > options.maxBytes) {
    throw new InvalidInputError(`the token would be ${record.bytes.length} bytes, more than ${options.maxBytes}`)
  }
  return record
}

/** A refusal by the signed-record module; `keyKnown`: every check before the signature passed. */
class TokenRefused extends Error {
  readonly keyKnown: boolean
  constructor(message: string, keyKnown: boolean) {
    super(message)
    this.keyKnown = keyKnown
  }
}

function verify<T>(bytes: Uint8Array, options: TokenOptions<T>, maxBytes: number): SignedRecord<T> {
  let keyKnown = false
  try {
    return verifyRecord(bytes, {
      maxBytes,
      type: options.type,
      validate: options.validate,
      publicKeyOf: (payload) => {
        const key = publicKeyFromDid(options.issuerOf(payload))
        // Past this point the only check left is the signature itself.
        keyKnown = true
        return key
      },
    })
  } catch (err) {
    if (err instanceof InvalidInputError) throw new TokenRefused(err.message, keyKnown)
    throw err
  }
}

/**
 * Whether a canonical envelope within the size bound fails only for its signature's length (the
 * fixtures' "signature not verifiable" cases carry 3 bytes): the same envelope with a 64-byte
 * placeholder signature then passes every check up to the signature itself.
 */
function onlySignatureLength<T>(bytes: Uint8Array, options: TokenOptions<T>): boolean {
  if (bytes.length > options.maxBytes) return false
  let value: unknown
  try {
    value = cbor.decode(bytes)
    if (!equalBytes(cbor.encode(value), bytes)) return false
  } catch {
    return false
  }
  if (!Array.isArray(value) || value.length !== 2) return false
  const [signature, sigPayload] = value as [unknown, unknown]
  if (!(signature instanceof Uint8Array) || signature.length === SIGNATURE_LENGTH) return false
  try {
    verify(cbor.encode([new Uint8Array(SIGNATURE_LENGTH), sigPayload]), options, options.maxBytes + SIGNATURE_LENGTH)
    return false
  } catch (err) {
    return err instanceof TokenRefused && err.keyKnown
  }
}
