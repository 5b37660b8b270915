/**
 * Properties of the varint length-prefixed framing (src/core/framing.ts), the first decoder every
 * byte from a peer meets on blocks and DM streams: valid streams round-trip however they are cut
 * into chunks; random and mutated bytes raise only InvalidInputError; a length prefix above the
 * bound (4 GiB and more) is refused from the header alone, before the body is read or allocated;
 * the reader never holds or allocates more than one frame plus its header.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { InvalidInputError } from '../src/core/errors.ts'
import { encodeFrame, FrameReader, frameHeader, readFrames } from '../src/core/framing.ts'
import { spyAllocations } from './helpers/allocation-spy.ts'
import { chunked, concat, mutated } from './helpers/mutations.ts'

/** Longest varint the reader accepts. */
const MAX_HEADER = 5

const payloads = fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 8 })
const cuts = fc.array(fc.nat(), { maxLength: 12 })

/** Push every chunk; stop at the first error, which must be InvalidInputError. Checks the bounds as it goes. */
function pushAll(reader: FrameReader, chunks: Uint8Array[], max: number): { frames: Uint8Array[]; error?: Error } {
  const frames: Uint8Array[] = []
  for (const chunk of chunks) {
    try {
      for (const frame of reader.push(chunk)) {
        assert.ok(frame.length <= max, `frame of ${frame.length} bytes over the bound ${max}`)
        frames.push(frame)
      }
    } catch (err) {
      assert.ok(err instanceof InvalidInputError, `unexpected ${(err as Error).name}: ${(err as Error).message}`)
      return { frames, error: err }
    }
    assert.ok(reader.pending <= max + MAX_HEADER, `reader holds ${reader.pending} bytes (bound ${max})`)
  }
  return { frames }
}

describe('framing properties', () => {
  it('valid frames round-trip whatever the chunking (numRuns 400)', () => {
    fc.assert(
      fc.property(payloads, cuts, fc.nat({ max: 64 }), (list, points, slack) => {
        const max = Math.max(0, ...list.map((p) => p.length)) + slack
        const stream = concat(list.map(encodeFrame))
        const reader = new FrameReader(max)
        const { frames, error } = pushAll(reader, chunked(stream, points), max)
        assert.equal(error, undefined)
        assert.deepEqual(frames, list)
        assert.equal(reader.pending, 0)
      }),
      { numRuns: 400 },
    )
  })

  it('random bytes give frames or InvalidInputError, never more than the bound held or allocated (numRuns 1000)', async () => {
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 512 }), cuts, fc.nat({ max: 300 }), (bytes, points, max) => {
          alloc.largest = 0
          pushAll(new FrameReader(max), chunked(bytes, points), max)
          assert.ok(alloc.largest <= max + MAX_HEADER, `allocated ${alloc.largest} bytes (bound ${max})`)
        }),
        { numRuns: 1000 },
      )
    })
  })

  it('mutated valid streams give InvalidInputError or bounded frames (numRuns 1000)', async () => {
    const streams = payloads.map((list) => concat(list.map(encodeFrame)))
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(mutated(streams), cuts, fc.nat({ max: 700 }), (bytes, points, max) => {
          alloc.largest = 0
          pushAll(new FrameReader(max), chunked(bytes, points), max)
          assert.ok(alloc.largest <= max + MAX_HEADER, `allocated ${alloc.largest} bytes (bound ${max})`)
        }),
        { numRuns: 1000 },
      )
    })
  })

  it('a length prefix above the bound is refused from the header alone, before any body arrives (numRuns 500)', async () => {
    const bound = 1024 * 1024
    const lies = fc.oneof(
      fc.integer({ min: bound + 1, max: 2 ** 35 - 1 }),
      fc.constantFrom(2 ** 32, 2 ** 32 - 1, 2 ** 31, bound + 1),
    )
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(lies, cuts, (claimed, points) => {
          alloc.largest = 0
          const header = Uint8Array.from(frameHeader(claimed))
          const reader = new FrameReader(bound)
          // Only the header is sent: the refusal cannot depend on reading the body.
          const { frames, error } = pushAll(reader, chunked(header, points), bound)
          assert.ok(error instanceof InvalidInputError, `a ${claimed}-byte frame was not refused`)
          assert.equal(frames.length, 0)
          assert.ok(alloc.largest <= MAX_HEADER, `allocated ${alloc.largest} bytes for a refused frame`)
        }),
        { numRuns: 500, examples: [[2 ** 32, []]] },
      )
    })
  })

  it('a varint longer than 5 bytes is refused whatever the bound (numRuns 300)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5, max: 12 }), fc.integer({ min: 0, max: 127 }), (continued, last) => {
        const header = Uint8Array.from([...new Array<number>(continued).fill(0x80), last])
        const { error } = pushAll(new FrameReader(Number.MAX_SAFE_INTEGER), [header], Number.MAX_SAFE_INTEGER)
        assert.ok(error instanceof InvalidInputError)
      }),
      { numRuns: 300 },
    )
  })

  it('the header decodes to exactly the length it encodes (numRuns 1000)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 35 - 1 }), (length) => {
        const header = Uint8Array.from(frameHeader(length))
        // One less than the length is refused, the length itself waits for the body.
        if (length > 0) assert.throws(() => new FrameReader(length - 1).push(header), InvalidInputError)
        const reader = new FrameReader(length)
        assert.deepEqual(reader.push(header), length === 0 ? [new Uint8Array(0)] : [])
        assert.equal(reader.pending, length === 0 ? 0 : header.length)
      }),
      { numRuns: 1000 },
    )
  })

  it('readFrames: a truncated stream ends in InvalidInputError, a whole one in its frames (numRuns 300)', async () => {
    await fc.assert(
      fc.asyncProperty(payloads, fc.nat(), cuts, async (list, cut, points) => {
        const stream = concat(list.map(encodeFrame))
        const ends = new Set<number>([0])
        let at = 0
        for (const p of list) {
          at += frameHeader(p.length).length + p.length
          ends.add(at)
        }
        const truncated = stream.subarray(0, cut % (stream.length + 1))
        const got: Uint8Array[] = []
        async function* source() {
          yield* chunked(truncated, points)
        }
        try {
          for await (const frame of readFrames(source(), 600)) got.push(frame)
          assert.ok(ends.has(truncated.length), `a stream cut inside a frame at ${truncated.length} was accepted`)
        } catch (err) {
          assert.ok(err instanceof InvalidInputError, `unexpected ${(err as Error).name}`)
          assert.ok(!ends.has(truncated.length))
        }
        assert.deepEqual(got, list.slice(0, got.length))
      }),
      { numRuns: 300 },
    )
  })
})
