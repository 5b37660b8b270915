/**
 * Sealing the identity's data key to one device (rotateDataKey entries): X25519 between a fresh
 * ephemeral key and the device's X25519 key, HKDF-SHA256, XChaCha20-Poly1305. The associated
 * data binds the copy to the identity, the epoch and the device, so a copy cannot be moved to
 * another entry, epoch or device and still open.
 *
 * ```
 * shared = X25519(eph secret, device x25519)
 * key    = HKDF-SHA256(ikm = shared, salt = eph public || device x25519, info = "lateral/identity/data-key/1", 32)
 * ct     = XChaCha20-Poly1305(key, nonce (24 random bytes), data key (32 bytes), aad)
 * aad    = UTF-8 of "<identity ID> <epoch> <device peer ID>"
 * ```
 */
import { concatBytes, hkdfSha256, open, randomBytes, seal, x25519Keygen, x25519Shared } from '../../core/crypto.ts'
import { InvalidInputError } from '../../core/errors.ts'
import type { KeyAgreement } from '../../core/signer.ts'
import type { SealedDataKey } from './entries.ts'

export const DATA_KEY_BYTES = 32
const INFO = 'lateral/identity/data-key/1'

/** Which copy: the identity, the epoch and the device it is sealed to. */
export interface DataKeyContext {
  identity: string
  epoch: number
  device: string
}

/** A new random data key. */
export function newDataKey(): Uint8Array {
  return randomBytes(DATA_KEY_BYTES)
}

/** Seal `dataKey` to a device's X25519 public key. */
export function sealDataKey(dataKey: Uint8Array, deviceX25519: Uint8Array, context: DataKeyContext): SealedDataKey {
  if (!(dataKey instanceof Uint8Array) || dataKey.length !== DATA_KEY_BYTES) {
    throw new InvalidInputError(`a data key is ${DATA_KEY_BYTES} bytes`)
  }
  const eph = x25519Keygen()
  let shared: Uint8Array
  try {
    shared = x25519Shared(eph.secret, deviceX25519)
  } catch {
    throw new InvalidInputError(`device ${context.device} has an unusable X25519 key`)
  }
  const key = hkdfSha256(shared, concatBytes(eph.publicKey, deviceX25519), INFO)
  const nonce = randomBytes(24)
  return { device: context.device, eph: eph.publicKey, nonce, ct: seal(key, nonce, dataKey, aad(context)) }
}

/**
 * Open a copy sealed to this device with its key agreement. Throws InvalidInputError when the
 * copy is for another device or does not open (wrong key, altered, moved to another context).
 */
export function openDataKey(sealed: SealedDataKey, keyAgreement: KeyAgreement, context: DataKeyContext): Uint8Array {
  if (sealed.device !== context.device) {
    throw new InvalidInputError(`this copy of the data key is sealed to ${sealed.device}, not ${context.device}`)
  }
  const shared = keyAgreement.agree(sealed.eph)
  const key = hkdfSha256(shared, concatBytes(sealed.eph, keyAgreement.x25519PublicKey), INFO)
  const dataKey = open(key, sealed.nonce, sealed.ct, aad(context))
  if (dataKey === undefined) throw new InvalidInputError('the data key copy does not open with this device key')
  return dataKey
}

function aad(context: DataKeyContext): Uint8Array {
  return new TextEncoder().encode(`${context.identity} ${context.epoch} ${context.device}`)
}
