/**
 * Properties of the signed-record decoder (src/core/signed-record.ts), which every signed thing
 * from a peer meets: records round-trip; random, mutated and rearranged inputs raise only
 * InvalidInputError; no input other than the signed bytes verifies (any one-byte change fails);
 * the size bound is applied before decoding; allocations stay within a constant factor of the
 * input (the canonical re-encoding is at most 3x: a half float becomes a float64).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { InvalidInputError } from '../src/core/errors.ts'
import { type SignedRecord, signRecord, type VerifyOptions, verifyRecord } from '../src/core/signed-record.ts'
import { publicKeyFromPeerId } from '../src/core/signer.ts'
import { createDeviceSigner } from '../src/identity/device-signer.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { spyAllocations } from './helpers/allocation-spy.ts'
import { mutated } from './helpers/mutations.ts'

const TYPE = 'lateral/test@1.0.0'
const MAX_BYTES = 8 * 1024

interface Payload {
  from: string
  v: unknown
}

const options: VerifyOptions<Payload> = {
  maxBytes: MAX_BYTES,
  type: TYPE,
  validate: (value) => {
    const p = value as Payload
    if (
      typeof p !== 'object' ||
      p === null ||
      typeof p.from !== 'string' ||
      Object.keys(p).sort().join() !== 'from,v'
    ) {
      throw new InvalidInputError('not a test payload')
    }
    return p
  },
  publicKeyOf: (p) => publicKeyFromPeerId(p.from),
}

const signers = [createDeviceSigner(generateDeviceKey()), createDeviceSigner(generateDeviceKey())]

/** Values DAG-CBOR keeps as they are (no -0, NaN or infinities, integers within 2^53). */
const { value: anyValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
    fc.string({ maxLength: 40 }),
    fc.uint8Array({ maxLength: 64 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4 }),
  ),
}))

/** Verify hostile bytes: the record or InvalidInputError, never anything else, allocations bounded. */
function verifyHostile(bytes: Uint8Array, alloc: { largest: number }): SignedRecord<Payload> | undefined {
  alloc.largest = 0
  let record: SignedRecord<Payload> | undefined
  try {
    record = verifyRecord(bytes, options)
  } catch (err) {
    assert.ok(err instanceof InvalidInputError, `unexpected ${(err as Error).name}: ${(err as Error).message}`)
  }
  assert.ok(alloc.largest <= 3 * bytes.length + 256, `allocated ${alloc.largest} bytes for ${bytes.length} of input`)
  return record
}

async function pool(): Promise<SignedRecord<Payload>[]> {
  const values: unknown[] = [null, 7, 'short', new Uint8Array(300).fill(9), { a: [1, 2.5, 'x'], b: true }, []]
  return Promise.all(
    values.map((v, i) => {
      const signer = signers[i % 2] as (typeof signers)[number]
      return signRecord(signer, { from: signer.peerId, v }, { type: TYPE })
    }),
  )
}

describe('signed record properties', () => {
  it('records round-trip with their payload, signer and CID (numRuns 300)', async () => {
    await fc.assert(
      fc.asyncProperty(anyValue, fc.nat({ max: 1 }), async (v, which) => {
        const signer = signers[which] as (typeof signers)[number]
        const signed = await signRecord(signer, { from: signer.peerId, v }, { type: TYPE })
        fc.pre(signed.bytes.length <= MAX_BYTES)
        const verified = verifyRecord(signed.bytes, options)
        // Compared in the IPLD data model (a null-prototype map and a plain one are the same map).
        assert.deepEqual(verified.payload, cbor.decode(cbor.encode({ from: signer.peerId, v })))
        assert.deepEqual(verified.signer, signer.publicKey)
        assert.equal(verified.cid.toString(), signed.cid.toString())
      }),
      { numRuns: 300 },
    )
  })

  it('random bytes raise only InvalidInputError (numRuns 3000)', async () => {
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 600 }),
            // Start like an envelope, so more inputs get past the first checks.
            fc.uint8Array({ maxLength: 600 }).map((b) => Uint8Array.from([0x82, 0x58, 0x40, ...b])),
          ),
          (bytes) => {
            assert.equal(verifyHostile(bytes, alloc), undefined)
          },
        ),
        { numRuns: 3000 },
      )
    })
  })

  it('mutated records (flips, truncation, extension, insertion, deletion, lying lengths) never verify (numRuns 3000)', async () => {
    const records = await pool()
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(
          fc
            .nat({ max: records.length - 1 })
            .chain((i) => fc.tuple(fc.constant(i), mutated(fc.constant((records[i] as SignedRecord<Payload>).bytes)))),
          ([i, bytes]) => {
            const verified = verifyHostile(bytes, alloc)
            if (verified !== undefined) assert.deepEqual(bytes, (records[i] as SignedRecord<Payload>).bytes)
          },
        ),
        { numRuns: 3000 },
      )
    })
  })

  it('any single-byte change of a valid record fails verification (numRuns 3000, and every byte of 3 records exhaustively)', async () => {
    const records = await pool()
    const change = fc.record({
      i: fc.nat({ max: records.length - 1 }),
      at: fc.nat(),
      delta: fc.integer({ min: 1, max: 255 }),
    })
    fc.assert(
      fc.property(change, ({ i, at, delta }) => {
        const bytes = Uint8Array.from((records[i] as SignedRecord<Payload>).bytes)
        const pos = at % bytes.length
        bytes[pos] = ((bytes[pos] as number) + delta) & 0xff
        assert.throws(() => verifyRecord(bytes, options), InvalidInputError)
      }),
      { numRuns: 3000 },
    )
    let checked = 0
    for (const record of records.slice(0, 3)) {
      for (let pos = 0; pos < record.bytes.length; pos++) {
        for (const bit of [0, 1, 2, 3, 4, 5, 6, 7]) {
          const bytes = Uint8Array.from(record.bytes)
          bytes[pos] = (bytes[pos] as number) ^ (1 << bit)
          assert.throws(() => verifyRecord(bytes, options), InvalidInputError, `byte ${pos} bit ${bit}`)
          checked++
        }
      }
    }
    assert.ok(checked > 2_000, `${checked} single-bit changes checked`)
  })

  it('rearranged valid records (fields swapped or moved, re-encoded canonically) never verify (numRuns 1000)', async () => {
    const records = await pool()
    type Envelope = [Uint8Array, Record<string, unknown>]
    const rearrange: Array<(a: Envelope, b: Envelope) => unknown> = [
      (a, b) => [b[0], a[1]], // another record's signature
      (a) => [a[1], a[0]], // signature and payload swapped
      (a) => [a[0], { ...a[1], h: a[0] }], // the signature as the header
      (a) => [a[0], { h: a[1].h, 'lateral/test@1.0.1': a[1][TYPE] }], // another type tag
      (a, b) => [a[0], { h: a[1].h, [TYPE]: b[1][TYPE] }], // another record's payload
      (a) => {
        const p = a[1][TYPE] as Payload
        return [a[0], { h: a[1].h, [TYPE]: { from: p.v, v: p.from } }] // payload fields swapped
      },
      (a) => [a[0], { h: a[1].h, [TYPE]: { ...(a[1][TYPE] as Payload), extra: 1 } }], // a field added
      (a) => [a[0], a[1], a[0]], // a third element
      (a) => [a[0].subarray(0, 63), a[1]], // a short signature
    ]
    fc.assert(
      fc.property(
        fc.nat({ max: records.length - 1 }),
        fc.nat({ max: records.length - 1 }),
        fc.nat({ max: rearrange.length - 1 }),
        (i, j, k) => {
          const a = cbor.decode((records[i] as SignedRecord<Payload>).bytes) as Envelope
          const b = cbor.decode((records[j] as SignedRecord<Payload>).bytes) as Envelope
          let bytes: Uint8Array
          try {
            bytes = cbor.encode((rearrange[k] as (a: Envelope, b: Envelope) => unknown)(a, b))
          } catch {
            return // not encodable (e.g. a null payload field swapped into a key): nothing to send
          }
          if (Buffer.from(bytes).equals(Buffer.from((records[i] as SignedRecord<Payload>).bytes))) return
          assert.throws(() => verifyRecord(bytes, options), InvalidInputError)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('validly signed records whose payload has the wrong shape raise only InvalidInputError (numRuns 500)', async () => {
    await fc.assert(
      fc.asyncProperty(anyValue, async (payload) => {
        const signed = await signRecord(signers[0] as (typeof signers)[number], payload, { type: TYPE })
        fc.pre(signed.bytes.length <= MAX_BYTES)
        await spyAllocations((alloc) => {
          const verified = verifyHostile(signed.bytes, alloc)
          // Only a payload naming this signer as `from` (and nothing else) can verify.
          if (verified !== undefined)
            assert.equal(verified.payload.from, (signers[0] as (typeof signers)[number]).peerId)
        })
      }),
      { numRuns: 500 },
    )
  })

  it('inputs over the size bound are refused before anything is decoded or allocated (numRuns 300)', async () => {
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 0, max: 255 }), (over, fill) => {
          alloc.largest = 0
          const bytes = new Uint8Array(MAX_BYTES + over).fill(fill)
          bytes[0] = 0x82
          alloc.largest = 0
          assert.throws(() => verifyRecord(bytes, options), /exceeds the limit/)
          assert.equal(alloc.largest, 0)
        }),
        { numRuns: 300 },
      )
    })
  })
})
