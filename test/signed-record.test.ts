// The signed-record module (core/signed-record.ts) and the names and signer of a device key
// (core/signer.ts, identity/device-signer.ts).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import { ed25519 } from '@noble/curves/ed25519.js'
import { ed25519Sign } from '../src/core/crypto.ts'
import { InvalidInputError } from '../src/core/errors.ts'
import {
  ED25519_DAG_CBOR_HEADER,
  recordCid,
  signRecord,
  type VerifyOptions,
  verifyRecord,
} from '../src/core/signed-record.ts'
import { ed25519Did, ed25519PeerId, publicKeyFromDid, publicKeyFromPeerId } from '../src/core/signer.ts'
import { createDeviceSigner } from '../src/identity/device-signer.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { peerIdFromSeed } from '../src/net/index.ts'
import { concat } from './helpers/mutations.ts'

const TYPE = 'lateral/test@1.0.0'

interface Note {
  from: string
  n: number
  text: string
}

function checkNote(value: unknown): Note {
  const v = value as Note
  if (typeof v !== 'object' || v === null || typeof v.from !== 'string' || typeof v.n !== 'number') {
    throw new InvalidInputError('not a note')
  }
  if (Object.keys(v).sort().join() !== 'from,n,text' || typeof v.text !== 'string') {
    throw new InvalidInputError('not a note')
  }
  return v
}

const options: VerifyOptions<Note> = {
  maxBytes: 4096,
  type: TYPE,
  validate: checkNote,
  publicKeyOf: (note) => publicKeyFromPeerId(note.from),
}

const signer = createDeviceSigner(generateDeviceKey())
const note = (text = 'hello'): Note => ({ from: signer.peerId, n: 1, text })

/** Envelope bytes with the given signature over the given sig-payload bytes (no checks). */
function envelope(signature: Uint8Array, sigPayload: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(0x82, 0x58, 0x40), signature, sigPayload])
}

describe('signed records', () => {
  it('round-trip: the verified record is the signed one, with the CID of its bytes', async () => {
    const signed = await signRecord(signer, note(), { type: TYPE })
    const verified = verifyRecord(signed.bytes, options)
    assert.deepEqual(verified.payload, note())
    assert.deepEqual(verified.signer, signer.publicKey)
    assert.equal(verified.cid.toString(), signed.cid.toString())
    assert.equal(verified.cid.toString(), recordCid(signed.bytes).toString())
    assert.match(verified.cid.toString(), /^bafyrei/, 'CIDv1, dag-cbor, sha2-256')
    assert.deepEqual(new Uint8Array(cbor.encode(cbor.decode(signed.bytes))), signed.bytes, 'canonical DAG-CBOR')
  })

  it('verifies the UCAN 1.0 delegation fixture (the envelope is UCAN’s), with the fixture’s CID', () => {
    // ucan-wg/spec fixtures/1.0.0/delegation.json, "basic delegation bob > carol".
    const token = Buffer.from(
      'glhAd7jvZs44lTWmjSG/PWBRXvAdJA6Pq0fj86WQOVBYSw3fLrpjF7OMvjUlTynZZblPHzFsiBeBlUqtbCAHvhppCaJhaEg0Ae0B7QETcXN1Y2FuL2RsZ0AxLjAuMC1yYy4xp2NhdWR4OGRpZDprZXk6ejZNa21KY2VWb1FTSHM0NWNSZUVYb0x0V20xd29zQ0c4Ukx4Zkt3aHhvcXpvVGtDY2NtZGgvYWNjb3VudGNleHAaaIIMsWNpc3N4OGRpZDprZXk6ejZNa21UOWo2ZlZacXpYVjh1MndWVlN1NDlnWVNSWUdTUW5kdVdYRjZmb0FKcnF6Y3BvbIBjc3VieDhkaWQ6a2V5Ono2TWttVDlqNmZWWnF6WFY4dTJ3VlZTdTQ5Z1lTUllHU1FuZHVXWEY2Zm9BSnJxemVub25jZUwnbSv2keQn/Kg2KsM=',
      'base64',
    )
    const bytes = new Uint8Array(token)
    const record = verifyRecord(bytes, {
      maxBytes: 4096,
      type: 'ucan/dlg@1.0.0-rc.1',
      validate: (p) => p as { iss: string; aud: string; cmd: string },
      publicKeyOf: (p) => publicKeyFromDid(p.iss),
    })
    assert.equal(record.payload.iss, 'did:key:z6MkmT9j6fVZqzXV8u2wVVSu49gYSRYGSQnduWXF6foAJrqz')
    assert.equal(record.payload.cmd, '/account')
    assert.equal(record.cid.toString(), 'bafyreifqsojs54lpxxyx5xfqxiwkc4paglcyqd7vjzrcyapxi557extz6m')
    const tampered = Uint8Array.from(bytes)
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1
    assert.throws(
      () =>
        verifyRecord(tampered, {
          maxBytes: 4096,
          type: 'ucan/dlg@1.0.0-rc.1',
          validate: (p) => p as { iss: string },
          publicKeyOf: (p) => publicKeyFromDid(p.iss),
        }),
      InvalidInputError,
    )
  })

  it('refuses a validly signed envelope that is not canonical (keys out of order)', async () => {
    // The sig-payload map with its two keys swapped: same value, another encoding, signed as is.
    const key = cbor.encode(TYPE)
    const payload = cbor.encode(note())
    const unsorted = concat([Uint8Array.of(0xa2), key, payload, cbor.encode('h'), cbor.encode(ED25519_DAG_CBOR_HEADER)])
    const bytes = envelope(await signer.sign(unsorted), unsorted)
    assert.deepEqual((cbor.decode(bytes) as unknown[])[1], { h: ED25519_DAG_CBOR_HEADER, [TYPE]: note() })
    assert.throws(() => verifyRecord(bytes, options), /not canonical DAG-CBOR/)
  })

  it('refuses the wrong type, extra keys, another header, and trailing bytes', async () => {
    const signed = await signRecord(signer, note(), { type: TYPE })
    assert.throws(() => verifyRecord(signed.bytes, { ...options, type: 'lateral/other@1.0.0' }), /not of type/)
    for (const sigPayload of [
      cbor.encode({ h: ED25519_DAG_CBOR_HEADER, [TYPE]: note(), extra: 1 }),
      cbor.encode({ h: Uint8Array.of(0x34, 0x01, 0xed, 0x01, 0xed, 0x01, 0x12, 0x71), [TYPE]: note() }),
      cbor.encode({ [TYPE]: note() }),
    ]) {
      const bytes = envelope(await signer.sign(sigPayload), sigPayload)
      assert.throws(() => verifyRecord(bytes, options), InvalidInputError)
    }
    assert.throws(() => verifyRecord(concat([signed.bytes, Uint8Array.of(0)]), options), /not DAG-CBOR/)
  })

  it('refuses a record signed by another key than the one its payload names', async () => {
    const mallory = createDeviceSigner(generateDeviceKey())
    const forged = await signRecord(mallory, note(), { type: TYPE })
    assert.throws(() => verifyRecord(forged.bytes, options), /signature does not match/)
  })

  it('checks the size before decoding, and turns a validator’s stray errors into InvalidInputError', async () => {
    const signed = await signRecord(signer, note('x'.repeat(500)), { type: TYPE })
    assert.throws(
      () => verifyRecord(signed.bytes, { ...options, maxBytes: signed.bytes.length - 1 }),
      /exceeds the limit/,
    )
    assert.throws(
      () =>
        verifyRecord(signed.bytes, {
          ...options,
          validate: () => {
            throw new TypeError('oops')
          },
        }),
      { name: 'InvalidInputError', message: /payload refused: oops/ },
    )
  })

  it('verifies strictly (RFC 8032): a small-order key that ZIP-215 accepts for every message is refused', async () => {
    // Public key and R are the identity point, s = 0: [8][s]B = [8]R + [8][k]A holds for any message.
    const identity = new Uint8Array(32)
    identity[0] = 1
    const signature = concat([identity, new Uint8Array(32)])
    const sigPayload = cbor.encode({ h: ED25519_DAG_CBOR_HEADER, [TYPE]: note() })
    assert.equal(ed25519.verify(signature, sigPayload, identity), true, "noble's default (ZIP-215) accepts it")
    assert.throws(
      () => verifyRecord(envelope(signature, sigPayload), { ...options, publicKeyOf: () => identity }),
      /signature does not match/,
    )
  })
})

describe('signer and the names of a key', () => {
  it('peer ID and did:key of a device key, and back', async () => {
    const key = generateDeviceKey()
    const device = createDeviceSigner(key)
    assert.equal(device.peerId, await peerIdFromSeed(key.seed), "the same peer ID as libp2p's")
    assert.equal(ed25519PeerId(key.publicKey), device.peerId)
    assert.deepEqual(publicKeyFromPeerId(device.peerId), key.publicKey)
    assert.match(device.did, /^did:key:z6Mk/)
    assert.equal(ed25519Did(key.publicKey), device.did)
    assert.deepEqual(publicKeyFromDid(device.did), key.publicKey)
    for (const bad of ['', 'Qm', 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG', 'x'.repeat(500), '0OIl']) {
      assert.throws(() => publicKeyFromPeerId(bad), InvalidInputError, bad)
    }
    assert.throws(() => publicKeyFromDid('did:web:example.com'), InvalidInputError)
  })

  it('signs with the RFC 8032 bytes an independent implementation gives (deterministic Ed25519)', () => {
    for (let i = 0; i < 50; i++) {
      const key = generateDeviceKey()
      const message = new Uint8Array(i * 7).map((_, j) => (j * 31 + i) & 0xff)
      assert.deepEqual(ed25519Sign(key.seed, message), ed25519.sign(message, key.seed))
    }
  })

  it('signs verifiably, agrees on X25519 secrets, refuses low-order points, and never shows its seed', async () => {
    const key = generateDeviceKey()
    const a = createDeviceSigner(key)
    const b = createDeviceSigner(generateDeviceKey())
    const message = new TextEncoder().encode('sign me')
    assert.equal(ed25519.verify(await a.sign(message), message, a.publicKey, { zip215: false }), true)
    assert.deepEqual(a.agree(b.x25519PublicKey), b.agree(a.x25519PublicKey))
    assert.throws(() => a.agree(new Uint8Array(32)), InvalidInputError)
    assert.throws(() => a.agree(new Uint8Array(31)), InvalidInputError)
    const shown = JSON.stringify(a) + Object.values(a).map(String).join()
    assert.equal(shown.includes(Buffer.from(key.seed).toString('hex')), false)
    assert.equal(
      Object.values(a).some((v) => v instanceof Uint8Array && Buffer.from(v).equals(Buffer.from(key.seed))),
      false,
      'no public field holds the seed',
    )
  })
})
