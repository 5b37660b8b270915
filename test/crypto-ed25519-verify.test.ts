/**
 * ed25519Verify (src/core/crypto.ts) asks OpenSSL first and noble (strict, cofactored) for
 * everything OpenSSL refuses: its verdict must be noble's strict verdict in every case, including
 * the ones where the two equations differ (a torsion component in R) and the encodings strict
 * mode refuses.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { ed25519 } from '@noble/curves/ed25519.js'
import { sha512 } from '@noble/hashes/sha2.js'
import { ed25519Sign, ed25519Verify } from '../src/core/crypto.ts'

const L = 2n ** 252n + 27742317777372353535851937790883648493n
const noble = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array) => {
  try {
    return ed25519.verify(sig, msg, pk, { zip215: false })
  } catch {
    return false
  }
}
const le = (n: bigint) => {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn)
  return out
}
const fromLe = (b: Uint8Array) => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n)
const mod = (a: bigint, m: bigint) => ((a % m) + m) % m

/** A point of order 8 (torsion): the decoding of a known small-order encoding. */
const TORSION = ed25519.Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a')

const sha512ModL = (...parts: Uint8Array[]) => mod(fromLe(sha512(Buffer.concat(parts))), L)

describe('ed25519Verify', () => {
  it('agrees with noble strict on honest, tampered and foreign signatures', () => {
    for (let i = 0; i < 50; i++) {
      const seed = randomBytes(32)
      const pk = ed25519.getPublicKey(seed)
      const msg = randomBytes(i * 7)
      const sig = ed25519Sign(seed, msg)
      assert.equal(ed25519Verify(pk, msg, sig), true)
      const tampered = Uint8Array.from(sig)
      tampered[i % 64] = (tampered[i % 64] as number) ^ 0x10
      assert.equal(ed25519Verify(pk, msg, tampered), noble(pk, msg, tampered))
      const other = ed25519.getPublicKey(randomBytes(32))
      assert.equal(ed25519Verify(other, msg, sig), false)
      assert.equal(ed25519Verify(pk, Buffer.concat([msg, Uint8Array.of(1)]), sig), false)
    }
  })

  it('refuses s >= L (a malleated copy of a valid signature), as strict mode does', () => {
    const seed = randomBytes(32)
    const pk = ed25519.getPublicKey(seed)
    const msg = randomBytes(40)
    const sig = ed25519Sign(seed, msg)
    const s = fromLe(sig.subarray(32))
    const malleated = Uint8Array.from([...sig.subarray(0, 32), ...le(s + L)])
    assert.equal(noble(pk, msg, malleated), false)
    assert.equal(ed25519Verify(pk, msg, malleated), false)
  })

  it('refuses small-order and non-canonical keys, and non-canonical R', () => {
    const msg = randomBytes(16)
    const smallOrder = TORSION.toBytes()
    // With a small-order key, R = identity and s = 0 satisfy the cofactored equation for any message.
    const identity = ed25519.Point.ZERO.toBytes()
    const forged = Uint8Array.from([...identity, ...new Uint8Array(32)])
    assert.equal(ed25519Verify(smallOrder, msg, forged), false)
    assert.equal(noble(smallOrder, msg, forged), false)
    // y = p + 1 encodes y = 1 (the identity) non-canonically.
    const p = 2n ** 255n - 19n
    const nonCanonical = le(p + 1n)
    assert.equal(ed25519Verify(nonCanonical, msg, forged), false)
    // R negated (sign bit flipped): another point, so the signature breaks.
    const seed = randomBytes(32)
    const pk = ed25519.getPublicKey(seed)
    const sig = ed25519Sign(seed, msg)
    const flipped = Uint8Array.from(sig)
    flipped[31] = (flipped[31] as number) ^ 0x80
    assert.equal(ed25519Verify(pk, msg, flipped), noble(pk, msg, flipped))
    assert.equal(ed25519Verify(pk, msg, new Uint8Array(64)), false)
    assert.equal(ed25519Verify(pk.subarray(0, 31), msg, sig), false)
    assert.equal(ed25519Verify(pk, msg, sig.subarray(0, 63)), false)
  })

  it('accepts what only the cofactored equation accepts (R with a torsion component), as noble does', () => {
    const seed = randomBytes(32)
    const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(seed)
    const msg = randomBytes(33)
    // R' = rB + T; s = r + k·a with k from R': [s]B = R' - T + [k]A.
    const r = mod(fromLe(randomBytes(64)), L)
    const R = ed25519.Point.BASE.multiply(r).add(TORSION)
    const Rb = R.toBytes()
    const k = sha512ModL(Rb, pointBytes, msg)
    const s = mod(r + k * scalar, L)
    const sig = Uint8Array.from([...Rb, ...le(s)])
    assert.equal(noble(pointBytes, msg, sig), true, 'noble strict takes the cofactored equation')
    assert.equal(ed25519Verify(pointBytes, msg, sig), true)
    // The same with a wrong s: both refuse.
    const bad = Uint8Array.from([...Rb, ...le(mod(s + 1n, L))])
    assert.equal(ed25519Verify(pointBytes, msg, bad), false)
  })
})
