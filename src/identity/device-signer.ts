/**
 * The device key as a `Signer` and a `KeyAgreement` (core/signer.ts): what the node hands to
 * services instead of the key itself. The seed stays in this object's private fields.
 *
 * @example
 * ```ts
 * const signer = createDeviceSigner(loaded.key)
 * createMessaging(init, { net, datastore, signer, keyAgreement: signer, logger })
 * ```
 */
import { ed25519Sign, x25519FromEd25519, x25519Shared } from '../core/crypto.ts'
import { InvalidInputError } from '../core/errors.ts'
import { ed25519Did, ed25519PeerId, type KeyAgreement, type Signer } from '../core/signer.ts'
import type { DeviceKey } from './keystore.ts'

export interface DeviceSigner extends Signer, KeyAgreement {}

export function createDeviceSigner(key: DeviceKey): DeviceSigner {
  return new DeviceKeySigner(key)
}

class DeviceKeySigner implements DeviceSigner {
  readonly publicKey: Uint8Array
  readonly peerId: string
  readonly did: string
  readonly x25519PublicKey: Uint8Array
  readonly #seed: Uint8Array
  readonly #x25519Secret: Uint8Array

  constructor(key: DeviceKey) {
    this.#seed = Uint8Array.from(key.seed)
    this.publicKey = Uint8Array.from(key.publicKey)
    this.peerId = ed25519PeerId(this.publicKey)
    this.did = ed25519Did(this.publicKey)
    const x = x25519FromEd25519(this.#seed)
    this.#x25519Secret = x.secret
    this.x25519PublicKey = x.publicKey
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return ed25519Sign(this.#seed, message)
  }

  agree(theirPublicKey: Uint8Array): Uint8Array {
    if (!(theirPublicKey instanceof Uint8Array) || theirPublicKey.length !== 32) {
      throw new InvalidInputError('an X25519 public key is 32 bytes')
    }
    try {
      return x25519Shared(this.#x25519Secret, theirPublicKey)
    } catch {
      // noble refuses low-order points (an all-zero shared secret).
      throw new InvalidInputError('X25519 public key of low order')
    }
  }

  /** Never let the seed reach a log line or a JSON body by accident. */
  toJSON(): { peerId: string } {
    return { peerId: this.peerId }
  }
}
