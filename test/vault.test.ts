// The vault boxes of core/vault.ts: what a node seals for itself (issue 11, data key).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { randomBytes, x25519Keygen, x25519Shared } from '../src/core/crypto.ts'
import { InvalidInputError } from '../src/core/errors.ts'
import { decodeBox, deviceVault, encodeBox, openWithKey, sealWithKey } from '../src/core/vault.ts'

function keyAgreement() {
  const k = x25519Keygen()
  return { x25519PublicKey: k.publicKey, agree: (pub: Uint8Array) => x25519Shared(k.secret, pub) }
}
const bytes = (t: string) => new TextEncoder().encode(t)

describe('vault boxes', () => {
  it('a device box opens on its device only, and only for its purpose', () => {
    const mine = deviceVault(keyAgreement())
    const other = deviceVault(keyAgreement())
    const box = mine.seal(bytes('hello'), 'outbox')
    assert.deepEqual(mine.open(box, 'outbox'), bytes('hello'))
    assert.throws(() => mine.open(box, 'backup'), InvalidInputError)
    assert.throws(() => other.open(box, 'outbox'), InvalidInputError)
    assert.notDeepEqual(mine.seal(bytes('hello'), 'outbox'), box, 'fresh randomness each time')
  })

  it('a data-key box binds the identity and the epoch', () => {
    const key = randomBytes(32)
    const box = sealWithKey(key, 'bafyid', 3, bytes('data'), 'outbox')
    const decoded = decodeBox(box)
    assert.equal(decoded.identity, 'bafyid')
    assert.equal(decoded.epoch, 3)
    assert.deepEqual(openWithKey(key, decoded, 'outbox'), bytes('data'))
    assert.throws(() => openWithKey(key, { ...decoded, epoch: 4 }, 'outbox'), /does not open/)
    assert.throws(() => openWithKey(key, { ...decoded, identity: 'bafyother' }, 'outbox'), /does not open/)
    assert.throws(() => openWithKey(randomBytes(32), decoded, 'outbox'), /does not open/)
    // Re-encoded with another epoch: still refused (the epoch is authenticated).
    assert.throws(() => openWithKey(key, decodeBox(encodeBox({ ...decoded, epoch: 2 })), 'outbox'), /does not open/)
  })

  it('malformed boxes are refused with InvalidInputError, never anything else', () => {
    const vault = deviceVault(keyAgreement())
    const good = vault.seal(bytes('x'), 'outbox')
    const cases = [
      new Uint8Array(0),
      randomBytes(40),
      good.subarray(0, good.length - 1),
      new Uint8Array(5 * 1024 * 1024),
    ]
    for (let i = 0; i < good.length; i += 7) {
      const flipped = good.slice()
      flipped[i] = (flipped[i] as number) ^ 0x01
      cases.push(flipped)
    }
    for (const c of cases) assert.throws(() => vault.open(c, 'outbox'), InvalidInputError)
  })
})
