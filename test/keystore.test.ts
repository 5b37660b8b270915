import assert from 'node:assert/strict'
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  createKeystore,
  decryptDeviceKey,
  encryptDeviceKey,
  generateDeviceKey,
  KEYSTORE_FILE_LENGTH,
  keystorePath,
  loadKeystore,
  readKeystoreHeader,
} from '../src/identity/keystore.ts'

// Cheap KDF for speed; one test below uses the real default cost.
const FAST = { logN: 10, r: 8, p: 1 }

describe('keystore', () => {
  let root: string
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lateral-keystore-'))
  })
  after(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('round-trips a device key with a passphrase, using the default scrypt cost', async () => {
    const home = join(root, 'roundtrip')
    const key = await createKeystore(home, { passphrase: 'correct horse battery staple' })
    const loaded = await loadKeystore(home, 'correct horse battery staple')
    assert.deepEqual(loaded.key.seed, key.seed)
    assert.deepEqual(loaded.key.publicKey, key.publicKey)
    assert.equal(loaded.header.protected, true)
    assert.deepEqual(loaded.header.kdf, { logN: 17, r: 8, p: 1 })
    assert.equal(loaded.looseMode, false)
  })

  it('normalises the passphrase (NFKC): composed and decomposed forms open the same key', async () => {
    const key = generateDeviceKey()
    const bytes = await encryptDeviceKey(key, { passphrase: 'caf\u00e9', kdf: FAST })
    const opened = await decryptDeviceKey(bytes, 'cafe\u0301')
    assert.deepEqual(opened.seed, key.seed)
  })

  it('refuses a wrong passphrase with WrongPassphraseError', async () => {
    const bytes = await encryptDeviceKey(generateDeviceKey(), { passphrase: 'right', kdf: FAST })
    await assert.rejects(decryptDeviceKey(bytes, 'wrong'), { name: 'WrongPassphraseError' })
    await assert.rejects(decryptDeviceKey(bytes, undefined), { name: 'WrongPassphraseError' })
  })

  it('stores a key without passphrase still encrypted, and opens it without one', async () => {
    const key = generateDeviceKey()
    const bytes = await encryptDeviceKey(key, { kdf: FAST })
    assert.equal(readKeystoreHeader(bytes).protected, false)
    assert.equal(Buffer.from(bytes).includes(Buffer.from(key.seed)), false, 'seed must not appear in the file')
    assert.deepEqual((await decryptDeviceKey(bytes, undefined)).seed, key.seed)
  })

  it('detects a truncated file', async () => {
    const bytes = await encryptDeviceKey(generateDeviceKey(), { passphrase: 'x', kdf: FAST })
    for (const length of [0, 3, 20, KEYSTORE_FILE_LENGTH - 1]) {
      await assert.rejects(
        decryptDeviceKey(bytes.subarray(0, length), 'x'),
        { name: 'KeystoreCorruptError' },
        `length ${length}`,
      )
    }
  })

  it('detects a tampered byte anywhere in the file', async () => {
    const bytes = await encryptDeviceKey(generateDeviceKey(), { passphrase: 'x', kdf: FAST })
    for (let i = 0; i < bytes.length; i++) {
      const tampered = new Uint8Array(bytes)
      tampered[i] = (tampered[i] as number) ^ 0x01
      await assert.rejects(decryptDeviceKey(tampered, 'x'), { name: 'KeystoreCorruptError' }, `byte ${i}`)
    }
  })

  it('refuses KDF parameters out of bounds before deriving anything', async () => {
    await assert.rejects(encryptDeviceKey(generateDeviceKey(), { kdf: { logN: 40 } }), { name: 'KeystoreCorruptError' })
  })

  it('creates files with mode 0600 in a 0700 folder, and never overwrites an existing key', async () => {
    const home = join(root, 'modes')
    const key = await createKeystore(home, { passphrase: 'p', kdf: FAST })
    const path = keystorePath(home)
    assert.equal((await stat(path)).mode & 0o777, 0o600)
    assert.equal((await stat(dirname(path))).mode & 0o777, 0o700)
    const before = await readFile(path)
    await assert.rejects(createKeystore(home, { passphrase: 'other', kdf: FAST }), { name: 'KeystoreExistsError' })
    assert.deepEqual(await readFile(path), before)
    assert.deepEqual((await loadKeystore(home, 'p')).key.seed, key.seed)
  })

  it('reports a loose file mode and leaves a damaged file as it is', async () => {
    const home = join(root, 'loose')
    await createKeystore(home, { passphrase: 'p', kdf: FAST })
    const path = keystorePath(home)
    await chmod(path, 0o644)
    assert.equal((await loadKeystore(home, 'p')).looseMode, true)
    const damaged = Buffer.from(await readFile(path))
    damaged[60] = (damaged[60] as number) ^ 0xff
    await writeFile(path, damaged)
    await assert.rejects(loadKeystore(home, 'p'), { name: 'KeystoreCorruptError' })
    assert.deepEqual(await readFile(path), damaged, 'the damaged file is never rewritten')
  })

  it('says when a home has no key', async () => {
    await assert.rejects(loadKeystore(join(root, 'empty'), 'p'), { name: 'KeystoreNotFoundError' })
  })
})
