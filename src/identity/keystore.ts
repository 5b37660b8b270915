/**
 * The device keystore: the device's Ed25519 key, encrypted at rest.
 *
 * File layout (`keystore/device.key`, mode 0600, directory 0700), all big-endian:
 *
 * | bytes | field |
 * |---|---|
 * | 6  | magic `LATKEY` |
 * | 1  | format version (1) |
 * | 1  | flags: bit 0 set when protected by a user passphrase |
 * | 1  | KDF id (1 = scrypt) |
 * | 1  | scrypt log2(N) |
 * | 1  | scrypt r |
 * | 1  | scrypt p |
 * | 16 | salt |
 * | 24 | XChaCha20 nonce |
 * | 48 | ciphertext of the 32-byte Ed25519 seed + 16-byte Poly1305 tag, header as associated data |
 * | 32 | SHA-256 of everything above (detects truncation and damage before any decryption) |
 *
 * Without a passphrase (`--no-passphrase`) the same format is used with the empty passphrase,
 * so the file is never plaintext, but anyone who can read it can use the key.
 */
import { link, mkdir, open as openFile, readFile, stat, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import {
  DEFAULT_SCRYPT_LOG_N,
  DEFAULT_SCRYPT_P,
  DEFAULT_SCRYPT_R,
  MAX_SCRYPT_LOG_N,
  MAX_SCRYPT_P,
  MAX_SCRYPT_R,
} from '../core/constants.ts'
import {
  concatBytes,
  ed25519PublicKey,
  equalBytes,
  open,
  randomBytes,
  type ScryptParams,
  scrypt,
  seal,
  sha256,
} from '../core/crypto.ts'
import {
  KeystoreCorruptError,
  KeystoreExistsError,
  KeystoreNotFoundError,
  WrongPassphraseError,
} from '../core/errors.ts'

const MAGIC = new TextEncoder().encode('LATKEY')
const FORMAT_VERSION = 1
const KDF_SCRYPT = 1
const FLAG_PASSPHRASE = 1
const SALT_LENGTH = 16
const NONCE_LENGTH = 24
const SEED_LENGTH = 32
const TAG_LENGTH = 16
const HEADER_LENGTH = MAGIC.length + 6 + SALT_LENGTH + NONCE_LENGTH
const CIPHERTEXT_LENGTH = SEED_LENGTH + TAG_LENGTH
const CHECKSUM_LENGTH = 32
export const KEYSTORE_FILE_LENGTH = HEADER_LENGTH + CIPHERTEXT_LENGTH + CHECKSUM_LENGTH

/** A device's signing key. `seed` is the 32-byte Ed25519 private key. */
export interface DeviceKey {
  seed: Uint8Array
  publicKey: Uint8Array
}

export interface KeystoreHeader {
  version: number
  protected: boolean
  kdf: ScryptParams
}

export interface CreateKeystoreOptions {
  /** The user's passphrase; `undefined` stores the key without one (the CLI warns). */
  passphrase?: string
  /** KDF cost; defaults to N = 2^17, r = 8, p = 1. Tests use cheaper parameters. */
  kdf?: Partial<ScryptParams>
  /** Use this key instead of generating one (for import). */
  key?: DeviceKey
}

export function keystorePath(home: string): string {
  return join(home, 'keystore', 'device.key')
}

export function generateDeviceKey(): DeviceKey {
  const seed = randomBytes(SEED_LENGTH)
  return { seed, publicKey: ed25519PublicKey(seed) }
}

/** Encode a device key into the keystore format. */
export async function encryptDeviceKey(key: DeviceKey, options: CreateKeystoreOptions = {}): Promise<Uint8Array> {
  const kdf: ScryptParams = {
    logN: options.kdf?.logN ?? DEFAULT_SCRYPT_LOG_N,
    r: options.kdf?.r ?? DEFAULT_SCRYPT_R,
    p: options.kdf?.p ?? DEFAULT_SCRYPT_P,
  }
  checkKdf(kdf)
  const salt = randomBytes(SALT_LENGTH)
  const nonce = randomBytes(NONCE_LENGTH)
  const header = new Uint8Array(HEADER_LENGTH)
  header.set(MAGIC, 0)
  let at = MAGIC.length
  header[at++] = FORMAT_VERSION
  header[at++] = options.passphrase === undefined ? 0 : FLAG_PASSPHRASE
  header[at++] = KDF_SCRYPT
  header[at++] = kdf.logN
  header[at++] = kdf.r
  header[at++] = kdf.p
  header.set(salt, at)
  header.set(nonce, at + SALT_LENGTH)
  const secret = await scrypt(options.passphrase ?? '', salt, kdf)
  const ciphertext = seal(secret, nonce, key.seed, header)
  const body = concatBytes(header, ciphertext)
  return concatBytes(body, sha256(body))
}

/** Parse and check a keystore file's header and checksum without decrypting it. */
export function readKeystoreHeader(bytes: Uint8Array): KeystoreHeader {
  if (bytes.length < MAGIC.length || !equalBytes(bytes.subarray(0, MAGIC.length), MAGIC)) {
    throw new KeystoreCorruptError('the keystore file is not a Lateral keystore (bad magic bytes)')
  }
  const version = bytes[MAGIC.length] as number
  if (version !== FORMAT_VERSION) {
    throw new KeystoreCorruptError(`the keystore file has unsupported format version ${version}`)
  }
  if (bytes.length !== KEYSTORE_FILE_LENGTH) {
    throw new KeystoreCorruptError(
      `the keystore file is ${bytes.length} bytes, expected ${KEYSTORE_FILE_LENGTH}: it is truncated or damaged`,
    )
  }
  const body = bytes.subarray(0, KEYSTORE_FILE_LENGTH - CHECKSUM_LENGTH)
  if (!equalBytes(sha256(body), bytes.subarray(KEYSTORE_FILE_LENGTH - CHECKSUM_LENGTH))) {
    throw new KeystoreCorruptError('the keystore file fails its checksum: it was altered or damaged')
  }
  let at = MAGIC.length + 1
  const flags = bytes[at++] as number
  const kdfId = bytes[at++] as number
  if (kdfId !== KDF_SCRYPT) throw new KeystoreCorruptError(`the keystore file names unknown KDF ${kdfId}`)
  const kdf = { logN: bytes[at++] as number, r: bytes[at++] as number, p: bytes[at++] as number }
  checkKdf(kdf)
  return { version, protected: (flags & FLAG_PASSPHRASE) !== 0, kdf }
}

/** Decrypt a keystore file. Wrong passphrase and damage are told apart (see the layout). */
export async function decryptDeviceKey(bytes: Uint8Array, passphrase: string | undefined): Promise<DeviceKey> {
  const header = readKeystoreHeader(bytes)
  const at = MAGIC.length + 6
  const salt = bytes.subarray(at, at + SALT_LENGTH)
  const nonce = bytes.subarray(at + SALT_LENGTH, HEADER_LENGTH)
  const ciphertext = bytes.subarray(HEADER_LENGTH, HEADER_LENGTH + CIPHERTEXT_LENGTH)
  const secret = await scrypt(header.protected ? (passphrase ?? '') : '', salt, header.kdf)
  const seed = open(secret, nonce, ciphertext, bytes.subarray(0, HEADER_LENGTH))
  if (seed === undefined) {
    if (header.protected) throw new WrongPassphraseError()
    throw new KeystoreCorruptError('the keystore file does not decrypt although it has no passphrase: it was altered')
  }
  return { seed, publicKey: ed25519PublicKey(seed) }
}

export async function keystoreExists(home: string): Promise<boolean> {
  try {
    await stat(keystorePath(home))
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

/**
 * Create the keystore of a home. Refuses to replace an existing one. The file is written to a
 * temporary name with mode 0600, synced, then renamed, so a crash leaves either no keystore or
 * a whole one.
 */
export async function createKeystore(home: string, options: CreateKeystoreOptions = {}): Promise<DeviceKey> {
  const path = keystorePath(home)
  if (await keystoreExists(home)) {
    throw new KeystoreExistsError(`a device key already exists at ${path}; it is never overwritten`)
  }
  const key = options.key ?? generateDeviceKey()
  const bytes = await encryptDeviceKey(key, options)
  await mkdir(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.tmp`
  const handle = await openFile(tmp, 'wx', 0o600)
  try {
    await handle.writeFile(bytes)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    // link() fails if the target appeared meanwhile, where rename() would replace it.
    await link(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KeystoreExistsError(`a device key already exists at ${path}; it is never overwritten`)
    }
    throw err
  } finally {
    await unlink(tmp).catch(() => {})
  }
  return key
}

export interface LoadedKeystore {
  key: DeviceKey
  header: KeystoreHeader
  /** Set when the file or its folder can be read by others than the owner. */
  looseMode: boolean
}

/** Read and decrypt the keystore of a home. */
export async function loadKeystore(home: string, passphrase: string | undefined): Promise<LoadedKeystore> {
  const bytes = await readKeystoreFile(home)
  const header = readKeystoreHeader(bytes)
  const key = await decryptDeviceKey(bytes, passphrase)
  const mode = (await stat(keystorePath(home))).mode
  return { key, header, looseMode: (mode & 0o077) !== 0 }
}

/** The raw keystore bytes, or KeystoreNotFoundError. */
export async function readKeystoreFile(home: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(keystorePath(home)))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KeystoreNotFoundError(`no device key in ${home}: run \`lateral init\` first`)
    }
    throw err
  }
}

function checkKdf(kdf: ScryptParams): void {
  if (
    !Number.isInteger(kdf.logN) ||
    kdf.logN < 1 ||
    kdf.logN > MAX_SCRYPT_LOG_N ||
    !Number.isInteger(kdf.r) ||
    kdf.r < 1 ||
    kdf.r > MAX_SCRYPT_R ||
    !Number.isInteger(kdf.p) ||
    kdf.p < 1 ||
    kdf.p > MAX_SCRYPT_P
  ) {
    throw new KeystoreCorruptError(
      `the keystore names scrypt parameters out of bounds (logN ${kdf.logN}, r ${kdf.r}, p ${kdf.p})`,
    )
  }
}
