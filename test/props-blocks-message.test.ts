/**
 * Properties of the `/lateral/blocks/1.0.0` message codec (src/content/blocks-message.ts): every
 * message round-trips (the zero-copy block frame included); random bytes, mutated encodings,
 * DAG-CBOR values of the wrong shape and CBOR headers that claim gigabytes raise only
 * InvalidInputError, never allocate more than the frame they came in, and whatever is accepted
 * keeps the documented bounds.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import {
  type BlocksMessage,
  decodeMessage,
  encodeBlockFrame,
  encodeMessage,
  MAX_BLOCK_BYTES,
  MAX_ENTRIES,
  MAX_FRAME_BYTES,
} from '../src/content/blocks-message.ts'
import { InvalidInputError } from '../src/core/errors.ts'
import { encodeFrame, FrameReader } from '../src/core/framing.ts'
import { spyAllocations } from './helpers/allocation-spy.ts'
import { chunked, concat, mutated } from './helpers/mutations.ts'

const cid: fc.Arbitrary<CID> = fc.oneof(
  fc
    .tuple(fc.constantFrom(0x55, 0x70, 0x71), fc.uint8Array({ minLength: 32, maxLength: 32 }))
    .map(([codec, digest]) => CID.createV1(codec, Digest.create(0x12, digest))),
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((digest) => CID.createV0(Digest.create(0x12, digest))),
  // Identity digests make CIDs of any length up to the 128-byte limit.
  fc.uint8Array({ maxLength: 120 }).map((bytes) => CID.createV1(0x55, Digest.create(0x00, bytes))),
)

const cids = fc.array(cid, { minLength: 1, maxLength: 40 })

const message: fc.Arbitrary<BlocksMessage> = fc.oneof(
  fc
    .array(fc.record({ cid, kind: fc.constantFrom(0 as const, 1 as const) }), { minLength: 1, maxLength: 40 })
    .map((wants) => ({ t: 'want' as const, wants })),
  fc.tuple(fc.constantFrom('have' as const, 'dont-have' as const, 'cancel' as const), cids).map(([t, list]) => ({
    t,
    cids: list,
  })),
  fc.tuple(cid, fc.uint8Array({ maxLength: 2048 })).map(([c, data]) => ({ t: 'block' as const, cid: c, data })),
)

/** A message as plain values, CIDs as strings, for deepEqual. */
function plain(m: BlocksMessage): unknown {
  switch (m.t) {
    case 'want':
      return { t: m.t, wants: m.wants.map((w) => [w.cid.toString(), w.kind]) }
    case 'block':
      return { t: m.t, cid: m.cid.toString(), data: Uint8Array.from(m.data) }
    default:
      return { t: m.t, cids: m.cids.map(String) }
  }
}

/** What the decoder promises about anything it accepts. */
function assertWellFormed(m: BlocksMessage): void {
  const list = m.t === 'want' ? m.wants.map((w) => w.cid) : m.t === 'block' ? [m.cid] : m.cids
  assert.ok(list.length >= 1 && list.length <= MAX_ENTRIES)
  for (const c of list) assert.ok(c instanceof CID && c.bytes.length <= 128)
  if (m.t === 'want') for (const w of m.wants) assert.ok(w.kind === 0 || w.kind === 1)
  if (m.t === 'block') assert.ok(m.data instanceof Uint8Array && m.data.length <= MAX_BLOCK_BYTES)
  assert.ok(['want', 'have', 'dont-have', 'cancel', 'block'].includes(m.t))
}

/** Decode hostile bytes: a well-formed message or InvalidInputError, with no buffer larger than the input allocated. */
function decodeHostile(bytes: Uint8Array, alloc: { largest: number }): void {
  alloc.largest = 0
  try {
    assertWellFormed(decodeMessage(bytes))
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err
    assert.ok(err instanceof InvalidInputError, `unexpected ${(err as Error).name}: ${(err as Error).message}`)
  }
  assert.ok(alloc.largest <= Math.max(bytes.length, 64), `allocated ${alloc.largest} bytes for ${bytes.length}`)
}

/** DAG-CBOR values of any shape, to build maps that look like messages but are not. */
const { value: cborValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 20 }),
    fc.constantFrom('want', 'have', 'dont-have', 'cancel', 'block', 't', 'c', 'd', 'w'),
    fc.uint8Array({ maxLength: 40 }),
    cid,
    cid.map((c) => c.bytes),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('t', 'c', 'd', 'w', 'x', '__proto__'), tie('value'), { maxKeys: 4 }),
  ),
}))

const messageLike = fc
  .tuple(
    fc.oneof(fc.constantFrom('want', 'have', 'dont-have', 'cancel', 'block'), cborValue),
    fc.dictionary(fc.constantFrom('c', 'd', 'w', 'x'), cborValue, { maxKeys: 3 }),
  )
  .map(([t, rest]) => cbor.encode({ ...rest, t }))

describe('blocks message properties', () => {
  it('every message round-trips (numRuns 500)', () => {
    fc.assert(
      fc.property(message, (m) => {
        const decoded = decodeMessage(encodeMessage(m))
        assert.deepEqual(plain(decoded), plain(m))
      }),
      { numRuns: 500 },
    )
  })

  it('block frames equal the canonical encoding and round-trip through the frame reader in any chunking (numRuns 300)', () => {
    const big = fc.constant(new Uint8Array(MAX_BLOCK_BYTES).fill(7))
    fc.assert(
      fc.property(
        cid,
        fc.oneof(fc.uint8Array({ maxLength: 70_000 }), big),
        fc.array(fc.nat(), { maxLength: 8 }),
        (c, data, points) => {
          const frame = concat(encodeBlockFrame(c, data))
          assert.deepEqual(frame, encodeFrame(encodeMessage({ t: 'block', cid: c, data })))
          const frames: Uint8Array[] = []
          const reader = new FrameReader(MAX_FRAME_BYTES)
          for (const chunk of chunked(frame, points)) frames.push(...reader.push(chunk))
          assert.equal(frames.length, 1)
          assert.deepEqual(plain(decodeMessage(frames[0] as Uint8Array)), plain({ t: 'block', cid: c, data }))
        },
      ),
      { numRuns: 300 },
    )
  })

  it('random bytes: a well-formed message or InvalidInputError, nothing allocated past the input (numRuns 2000)', async () => {
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.uint8Array({ maxLength: 300 }),
            // Start like a map, so the decoder goes past the first byte more often.
            fc.uint8Array({ maxLength: 300 }).map((b) => concat([Uint8Array.of(0xa2 + ((b[0] ?? 0) % 2)), b])),
          ),
          (bytes) => decodeHostile(bytes, alloc),
        ),
        { numRuns: 2000 },
      )
    })
  })

  it('mutated valid messages and block frames: a well-formed message or InvalidInputError, bounded (numRuns 2000)', async () => {
    const valid = fc.oneof(
      message.map(encodeMessage),
      fc.tuple(cid, fc.uint8Array({ maxLength: 600 })).map(([c, d]) => concat(encodeBlockFrame(c, d)).subarray(3)),
    )
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(mutated(valid), (bytes) => decodeHostile(bytes, alloc)),
        { numRuns: 2000 },
      )
    })
  })

  it('DAG-CBOR maps of the wrong shape: InvalidInputError only (numRuns 1000)', async () => {
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(messageLike, (bytes) => decodeHostile(bytes, alloc)),
        {
          numRuns: 1000,
          examples: [
            [cbor.encode({ t: 2n ** 63n })],
            [cbor.encode({ t: 'want', w: [[new Uint8Array(0), 2n ** 64n - 1n]] })],
          ],
        },
      )
    })
  })

  it('lists are accepted up to MAX_ENTRIES and refused past it (numRuns 60)', () => {
    const one = CID.parse('bafkqaaa')
    fc.assert(
      fc.property(
        fc.integer({ min: MAX_ENTRIES - 2, max: MAX_ENTRIES + 3 }),
        fc.constantFrom('want', 'have', 'dont-have', 'cancel'),
        (count, t) => {
          const list = new Array<CID>(count).fill(one)
          const bytes =
            t === 'want'
              ? cbor.encode({ t, w: list.map((c) => [c.bytes, 0]) })
              : cbor.encode({ t, c: list.map((c) => c.bytes) })
          if (count <= MAX_ENTRIES) assertWellFormed(decodeMessage(bytes))
          else assert.throws(() => decodeMessage(bytes), InvalidInputError)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('a block whose byte-string headers claim up to 4 GiB is refused before allocation (numRuns 500)', async () => {
    // Argument sizes 1, 2, 4 and 8 bytes (0x58..0x5b) for the CID and the data, each with a claimed length.
    const claim = fc.tuple(fc.constantFrom(0x58, 0x59, 0x5a, 0x5b), fc.bigInt({ min: 0n, max: 2n ** 32n + 5n }))
    const header = ([major, length]: [number, bigint]) => {
      const size = { 88: 1, 89: 2, 90: 4, 91: 8 }[major] as number
      const out = [major]
      for (let i = size - 1; i >= 0; i--) out.push(Number((length >> BigInt(8 * i)) & 0xffn))
      return out
    }
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(cid, fc.uint8Array({ maxLength: 64 }), claim, claim, (c, data, cidClaim, dataClaim) => {
          const bytes = Uint8Array.from([
            0xa3,
            0x61,
            0x63,
            ...header(cidClaim),
            ...c.bytes,
            0x61,
            0x64,
            ...header(dataClaim),
            ...data,
            0x61,
            0x74,
            0x65,
            ...new TextEncoder().encode('block'),
          ])
          decodeHostile(bytes, alloc)
        }),
        { numRuns: 500, examples: [[CID.parse('bafkqaaa'), new Uint8Array(0), [0x5a, 0n], [0x5a, 2n ** 32n - 1n]]] },
      )
    })
  })
})
