/**
 * A vault seals a node's own data at rest (the outbox's copies of sent messages today; backups
 * later) so that only its owner can open it. Two kinds, one box format:
 *
 * - the identity vault (identity service): sealed under the identity's data key, so every
 *   current device of the person can open it and a device removed before the sealing cannot
 *   (the key is rotated at each removal);
 * - the device vault: sealed to this device's own X25519 key, for a node without an identity
 *   (tests, embedding).
 *
 * ```
 * box     = canonical DAG-CBOR { "v": 1, "id": identity ID or "", "e": epoch (0 for a device box),
 *                                "k": ephemeral X25519 public key (device box) or empty bytes,
 *                                "n": 24-byte nonce, "c": ciphertext }
 * key     = HKDF-SHA256(ikm = data key | X25519(eph, device), salt = n, info = "lateral/vault/1 " + purpose)
 * c       = XChaCha20-Poly1305(key, n, plaintext, aad = UTF-8 "<id> <e> <purpose>")
 * ```
 * The purpose (e.g. `outbox`) separates uses: a box sealed for one purpose does not open as another.
 *
 * @example
 * ```ts
 * const box = vault.seal(bytes, 'outbox')
 * vault.open(box, 'outbox') // the bytes; InvalidInputError when it cannot be opened here
 * ```
 */
import * as cbor from '@ipld/dag-cbor'
import { concatBytes, hkdfSha256, open, randomBytes, seal, x25519Keygen } from './crypto.ts'
import { InvalidInputError } from './errors.ts'
import type { KeyAgreement } from './signer.ts'

export interface DataVault {
  /** Seal `plaintext` for `purpose`. */
  seal(plaintext: Uint8Array, purpose: string): Uint8Array
  /** Open a box sealed for `purpose`; InvalidInputError when this node cannot open it (and why). */
  open(box: Uint8Array, purpose: string): Uint8Array
}

/** The fields of a box, decoded and checked. */
export interface VaultBox {
  identity: string
  epoch: number
  eph: Uint8Array
  nonce: Uint8Array
  ct: Uint8Array
}

const VERSION = 1
const NONCE_BYTES = 24
const KEY_BYTES = 32
/** Boxes hold what a node seals for itself: a direct message with its envelope is well under this. */
const MAX_BOX_BYTES = 4 * 1024 * 1024

export function encodeBox(box: VaultBox): Uint8Array {
  return cbor.encode({ v: VERSION, id: box.identity, e: box.epoch, k: box.eph, n: box.nonce, c: box.ct })
}

export function decodeBox(bytes: Uint8Array): VaultBox {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_BOX_BYTES) throw new InvalidInputError('not a vault box')
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch {
    throw new InvalidInputError('not a vault box (undecodable)')
  }
  const m = value as Record<string, unknown>
  if (
    typeof m !== 'object' ||
    m === null ||
    m.v !== VERSION ||
    typeof m.id !== 'string' ||
    !Number.isSafeInteger(m.e) ||
    (m.e as number) < 0 ||
    !(m.k instanceof Uint8Array) ||
    !(m.n instanceof Uint8Array) ||
    m.n.length !== NONCE_BYTES ||
    !(m.c instanceof Uint8Array)
  ) {
    throw new InvalidInputError('not a vault box (wrong shape or version)')
  }
  return { identity: m.id, epoch: m.e as number, eph: m.k, nonce: m.n, ct: m.c }
}

/** Seal under a symmetric key (the identity's data key of `epoch`). */
export function sealWithKey(
  key: Uint8Array,
  identity: string,
  epoch: number,
  plaintext: Uint8Array,
  purpose: string,
): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES)
  const ct = seal(boxKey(key, nonce, purpose), nonce, plaintext, aad(identity, epoch, purpose))
  return encodeBox({ identity, epoch, eph: new Uint8Array(0), nonce, ct })
}

/** Open a box sealed under `key`; InvalidInputError when it does not open. */
export function openWithKey(key: Uint8Array, box: VaultBox, purpose: string): Uint8Array {
  const plaintext = open(boxKey(key, box.nonce, purpose), box.nonce, box.ct, aad(box.identity, box.epoch, purpose))
  if (plaintext === undefined) throw new InvalidInputError(`the ${purpose} box does not open with this key`)
  return plaintext
}

/** A vault sealed to this device's own X25519 key, for nodes without an identity. */
export function deviceVault(keyAgreement: KeyAgreement): DataVault {
  return {
    seal(plaintext, purpose) {
      const eph = x25519Keygen()
      const shared = keyAgreement.agree(eph.publicKey)
      const nonce = randomBytes(NONCE_BYTES)
      const key = hkdfSha256(shared, concatBytes(eph.publicKey, keyAgreement.x25519PublicKey), 'lateral/vault/device/1')
      const ct = seal(boxKey(key, nonce, purpose), nonce, plaintext, aad('', 0, purpose))
      return encodeBox({ identity: '', epoch: 0, eph: eph.publicKey, nonce, ct })
    },
    open(bytes, purpose) {
      const box = decodeBox(bytes)
      if (box.identity !== '' || box.eph.length !== KEY_BYTES) {
        throw new InvalidInputError(`this ${purpose} box was sealed under identity ${box.identity}, not to this device`)
      }
      const shared = keyAgreement.agree(box.eph)
      const key = hkdfSha256(shared, concatBytes(box.eph, keyAgreement.x25519PublicKey), 'lateral/vault/device/1')
      return openWithKey(key, box, purpose)
    },
  }
}

function boxKey(key: Uint8Array, nonce: Uint8Array, purpose: string): Uint8Array {
  return hkdfSha256(key, nonce, `lateral/vault/1 ${purpose}`)
}

function aad(identity: string, epoch: number, purpose: string): Uint8Array {
  return new TextEncoder().encode(`${identity} ${epoch} ${purpose}`)
}
