/**
 * Properties of the topic-message decoder (src/messaging/topic-message.ts), which every gossipsub
 * message on a Lateral topic meets: signed messages round-trip; random bytes, mutated records,
 * and validly signed records with payloads of the wrong shape raise only InvalidInputError; no
 * mutation of a signed record is ever accepted; the size bound is applied before decoding; no
 * buffer larger than the input (plus a small constant for hashing) is allocated.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { InvalidInputError } from '../src/core/errors.ts'
import { signRecord } from '../src/core/signed-record.ts'
import { createDeviceSigner } from '../src/identity/device-signer.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import {
  decodeTopicMessage,
  signTopicMessage,
  TOPIC_RECORD_TYPE,
  type TopicMessage,
} from '../src/messaging/topic-message.ts'
import { spyAllocations } from './helpers/allocation-spy.ts'
import { anyCborValue, mutated } from './helpers/mutations.ts'

const MAX_BYTES = 64 * 1024
/** Hashing and signature checks allocate a few small blocks beyond the input. */
const CONSTANT_ALLOCATION = 256

const author = createDeviceSigner(generateDeviceKey())
const NOW = Date.UTC(2030, 0, 1)

const topicName = fc
  .array(fc.constantFrom(...'abcxyzXYZ019._-éж字'), { minLength: 1, maxLength: 100 })
  .map((chars) => chars.join(''))
const contentType = fc.constantFrom('text/plain', 'application/json; charset=utf-8', 'application/octet-stream')

const topicMessage: fc.Arbitrary<TopicMessage> = fc.record({
  topic: topicName,
  from: fc.constant(author.peerId),
  time: fc.integer({ min: 0, max: NOW }),
  type: contentType,
  body: fc.uint8Array({ maxLength: 2048 }),
})

const anyValue = anyCborValue(120)

/** A valid message with some fields replaced, removed or added. */
const wrongPayload = fc
  .tuple(
    topicMessage,
    fc.dictionary(fc.constantFrom('topic', 'from', 'time', 'type', 'body', 'extra'), anyValue, { minKeys: 1 }),
    fc.subarray(['topic', 'from', 'time', 'type', 'body']),
  )
  .map(([m, replaced, removed]) => {
    const out: Record<string, unknown> = { ...m, ...replaced }
    for (const key of removed) delete out[key]
    return out
  })

function decodeHostile(bytes: Uint8Array, alloc: { largest: number }): void {
  alloc.largest = 0
  try {
    const record = decodeTopicMessage(bytes, { maxBytes: MAX_BYTES, now: NOW })
    assert.equal(record.payload.from, author.peerId, 'only records signed by the author verify here')
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err
    assert.ok(err instanceof InvalidInputError, `unexpected ${(err as Error).name}: ${(err as Error).message}`)
  }
  assert.ok(
    alloc.largest <= bytes.length + CONSTANT_ALLOCATION,
    `allocated ${alloc.largest} bytes for ${bytes.length} bytes of input`,
  )
}

describe('topic message properties', () => {
  it('signed messages round-trip (numRuns 200)', async () => {
    await fc.assert(
      fc.asyncProperty(topicMessage, async (m) => {
        const signed = await signTopicMessage(author, m)
        const record = decodeTopicMessage(signed.bytes, { maxBytes: MAX_BYTES, now: NOW })
        assert.deepEqual(record.payload, { ...m })
        assert.ok(record.cid.equals(signed.cid))
      }),
      { numRuns: 200 },
    )
  })

  it('random bytes raise only InvalidInputError (numRuns 1000)', async () => {
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => decodeHostile(bytes, alloc)),
        { numRuns: 1000 },
      )
    })
  })

  it('no mutation of a signed record is accepted, and only InvalidInputError is raised (numRuns 1000)', async () => {
    const signed = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        signTopicMessage(author, {
          topic: `t${i}`,
          from: author.peerId,
          time: NOW - i,
          type: 'text/plain',
          body: new Uint8Array(i * 40).fill(i),
        }),
      ),
    )
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(
          fc
            .nat({ max: signed.length - 1 })
            .chain((i) => fc.tuple(fc.constant(i), mutated(fc.constant((signed[i] as { bytes: Uint8Array }).bytes)))),
          ([i, bytes]) => {
            const original = (signed[i] as { bytes: Uint8Array }).bytes
            alloc.largest = 0
            let accepted = false
            try {
              decodeTopicMessage(bytes, { maxBytes: MAX_BYTES, now: NOW })
              accepted = true
            } catch (err) {
              assert.ok(
                err instanceof InvalidInputError,
                `unexpected ${(err as Error).name}: ${(err as Error).message}`,
              )
            }
            if (accepted) assert.deepEqual(bytes, original, 'a changed record was accepted')
            assert.ok(alloc.largest <= bytes.length + CONSTANT_ALLOCATION)
          },
        ),
        { numRuns: 1000 },
      )
    })
  })

  it('validly signed records with payloads of the wrong shape raise only InvalidInputError (numRuns 500)', async () => {
    await fc.assert(
      fc.asyncProperty(wrongPayload, async (payload) => {
        const { bytes } = await signRecord(author, payload, { type: TOPIC_RECORD_TYPE })
        await spyAllocations((alloc) => decodeHostile(bytes, alloc))
      }),
      { numRuns: 500 },
    )
  })

  it('records over the size bound are refused before decoding (numRuns 100)', async () => {
    // Real signed records: only the size check stands between them and decoding.
    const cases = fc.tuple(fc.integer({ min: 200, max: 4096 }), fc.integer({ min: 1, max: 64 }))
    await fc.assert(
      fc.asyncProperty(cases, async ([max, over]) => {
        const m = { topic: 'big', from: author.peerId, time: NOW, type: 'text/plain', body: new Uint8Array(max + over) }
        const { bytes } = await signTopicMessage(author, m)
        await spyAllocations((alloc) => {
          assert.throws(() => decodeTopicMessage(bytes, { maxBytes: max, now: NOW }), InvalidInputError)
          assert.equal(alloc.largest, 0, 'nothing is allocated for an oversized record')
        })
      }),
      { numRuns: 100 },
    )
  })
})
