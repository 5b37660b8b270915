/**
 * Properties of the streaming reader of blocks frames (src/content/block-frames.ts): whatever
 * the chunking, it reads exactly what `decodeMessage` reads frame by frame, with each block's
 * data kept as views and hashed as it arrives; blocks not accepted are skipped; malformed input
 * raises only InvalidInputError.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { BlockFrameReader, joinParts, type ReceivedMessage } from '../src/content/block-frames.ts'
import { type BlocksMessage, decodeMessage, encodeBlockFrame, encodeMessage } from '../src/content/blocks-message.ts'
import { InvalidInputError } from '../src/core/errors.ts'
import { encodeFrame } from '../src/core/framing.ts'
import { chunked, concat, mutated } from './helpers/mutations.ts'

const sha = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest())

const data = fc.uint8Array({ maxLength: 3000 })
/** A block whose CID matches its data, or one whose CID is of other bytes. */
const block: fc.Arbitrary<BlocksMessage> = fc
  .tuple(data, fc.boolean(), fc.constantFrom(0x55, 0x70))
  .map(([d, honest, codec]) => ({
    t: 'block' as const,
    cid: CID.createV1(codec, Digest.create(0x12, honest ? sha(d) : sha(Uint8Array.from([...d, 1])))),
    data: d,
  }))
const someCid = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((d) => CID.createV1(0x55, Digest.create(0x12, d)))
const other: fc.Arbitrary<BlocksMessage> = fc.oneof(
  fc.array(someCid, { minLength: 1, maxLength: 5 }).map((cids) => ({ t: 'have' as const, cids })),
  fc.array(someCid, { minLength: 1, maxLength: 5 }).map((cids) => ({ t: 'dont-have' as const, cids })),
  fc
    .array(fc.record({ cid: someCid, kind: fc.constantFrom(0 as const, 1 as const) }), { minLength: 1, maxLength: 5 })
    .map((wants) => ({ t: 'want' as const, wants })),
)
const messages = fc.array(fc.oneof(block, other), { minLength: 1, maxLength: 8 })

function frame(m: BlocksMessage, zeroCopy: boolean): Uint8Array {
  if (m.t === 'block' && zeroCopy) return concat(encodeBlockFrame(m.cid, m.data))
  return encodeFrame(encodeMessage(m))
}

function plain(m: ReceivedMessage | BlocksMessage): unknown {
  switch (m.t) {
    case 'block': {
      const bytes = 'parts' in m ? joinParts(m.parts, m.length) : m.data
      const matches = 'parts' in m ? m.matches : Buffer.compare(sha(m.data), m.cid.multihash.digest) === 0
      return { t: 'block', cid: m.cid.toString(), data: Uint8Array.from(bytes), matches }
    }
    case 'want':
      return { t: m.t, wants: m.wants.map((w) => [w.cid.toString(), w.kind]) }
    default:
      return { t: m.t, cids: m.cids.map(String) }
  }
}

function readAll(chunks: Uint8Array[], accept: (cid: CID) => boolean = () => true): ReceivedMessage[] {
  const reader = new BlockFrameReader(accept)
  const out = chunks.flatMap((c) => reader.push(c))
  assert.equal(reader.pending, 0)
  return out
}

describe('streaming blocks frame reader', () => {
  it('reads what decodeMessage reads, however the stream is cut', () => {
    fc.assert(
      fc.property(messages, fc.array(fc.nat(), { maxLength: 20 }), fc.boolean(), (list, cuts, zeroCopy) => {
        const bytes = concat(list.map((m) => frame(m, zeroCopy)))
        const expected = list.map((m) => plain(decodeMessage(encodeMessage(m))))
        assert.deepEqual(readAll(chunked(bytes, cuts)).map(plain), expected)
      }),
      { numRuns: 300 },
    )
  })

  it('keeps a large block as views of the chunks it came in (no copy)', () => {
    const d = new Uint8Array(1024 * 1024).fill(7)
    const cid = CID.createV1(0x55, Digest.create(0x12, sha(d)))
    const bytes = concat(encodeBlockFrame(cid, d))
    const chunks = chunked(bytes, [100, 70_000, 140_000, 500_000])
    const [got] = readAll(chunks)
    assert.ok(got !== undefined && got.t === 'block')
    assert.equal(got.matches, true)
    assert.equal(got.length, d.length)
    // Beyond the head, every part is a view into a chunk's buffer.
    for (const part of got.parts.slice(1)) assert.ok(chunks.some((c) => c.buffer === part.buffer))
  })

  it('skips blocks it does not accept, and only those', () => {
    fc.assert(
      fc.property(messages, fc.array(fc.nat(), { maxLength: 10 }), (list, cuts) => {
        const bytes = concat(list.map((m) => frame(m, true)))
        const got = readAll(chunked(bytes, cuts), () => false)
        assert.deepEqual(got.map(plain), list.filter((m) => m.t !== 'block').map(plain))
      }),
      { numRuns: 200 },
    )
  })

  it('raises only InvalidInputError on malformed input', () => {
    fc.assert(
      fc.property(
        mutated(messages.map((list) => concat(list.map((m) => frame(m, true))))),
        fc.array(fc.nat(), { maxLength: 10 }),
        (bytes, cuts) => {
          const reader = new BlockFrameReader(() => true)
          try {
            for (const c of chunked(bytes, cuts)) reader.push(c)
          } catch (err) {
            assert.ok(err instanceof InvalidInputError, String(err))
          }
        },
      ),
      { numRuns: 500 },
    )
  })
})
