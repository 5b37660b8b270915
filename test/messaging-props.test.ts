/**
 * Properties of the decoders a direct-message stream and a topic feed: the ack decoder (what a
 * sender reads), the recipient's path from bytes on the stream to opened messages (framing with
 * the DM bound, then the envelope), and one-bit changes of a signed topic message and of a
 * sealed envelope. Random and mutated inputs raise only InvalidInputError; buffers stay bounded.
 * (test/props-dm-envelope.test.ts and test/props-topic-message.test.ts cover the envelope and
 * topic decoders on their own.)
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { InvalidInputError } from '../src/core/errors.ts'
import { encodeFrame, FrameReader, frameHeader } from '../src/core/framing.ts'
import { publicKeyFromPeerId } from '../src/core/signer.ts'
import { createDeviceSigner } from '../src/identity/device-signer.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { type Ack, DM_ACK_MAX_BYTES, decodeAck, encodeAck } from '../src/messaging/dm-ack.ts'
import {
  type DirectMessage,
  DM_ENVELOPE_OVERHEAD_BYTES,
  newMessageId,
  openDirectMessage,
  sealDirectMessage,
} from '../src/messaging/dm-envelope.ts'
import { decodeTopicMessage, signTopicMessage } from '../src/messaging/topic-message.ts'
import { spyAllocations } from './helpers/allocation-spy.ts'
import { chunked, concat, mutated } from './helpers/mutations.ts'

const MAX_BODY = 1024
const MAX_ENVELOPE = MAX_BODY + DM_ENVELOPE_OVERHEAD_BYTES
const MAX_VARINT = 5
const sender = createDeviceSigner(generateDeviceKey())
const recipient = createDeviceSigner(generateDeviceKey())

const hexId = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex'))
const ack: fc.Arbitrary<Ack> = fc.oneof(
  fc.record({ ok: fc.constant(true), id: hexId }),
  fc.record({
    ok: fc.constant(true),
    id: hexId,
    duplicate: fc.constant(true),
  }),
  fc.record({
    ok: fc.constant(false),
    code: fc.constantFrom('rate-limited' as const, 'inbox-full' as const, 'invalid' as const),
    error: fc.string({ maxLength: 200 }),
    retryAfterMs: fc.nat(),
  }),
)

function decodeHostileAck(bytes: Uint8Array): Ack | undefined {
  try {
    return decodeAck(bytes)
  } catch (err) {
    assert.ok(err instanceof InvalidInputError, `unexpected ${(err as Error).name}: ${(err as Error).message}`)
    return undefined
  }
}

function openAsRecipient(bytes: Uint8Array): DirectMessage {
  return openDirectMessage(bytes, recipient.peerId, recipient, publicKeyFromPeerId, { maxBodyBytes: MAX_BODY })
}

async function sealed(n: number): Promise<Uint8Array[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      sealDirectMessage(
        {
          id: newMessageId(),
          from: sender.peerId,
          to: recipient.peerId,
          seq: i + 1,
          time: Date.now(),
          type: 'text/plain',
          body: new Uint8Array(i * 97).fill(i),
        },
        sender,
        recipient.publicKey,
      ),
    ),
  )
}

describe('direct-message acks', () => {
  it('acks round-trip (numRuns 500)', () => {
    fc.assert(
      fc.property(ack, (a) => {
        assert.deepEqual(decodeAck(encodeAck(a)), { ...a })
      }),
      { numRuns: 500 },
    )
  })

  it('random and mutated acks raise only InvalidInputError, within the ack bound (numRuns 2000 each)', async () => {
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
          alloc.largest = 0
          decodeHostileAck(bytes)
          assert.ok(alloc.largest <= bytes.length + 256)
        }),
        { numRuns: 2000 },
      )
      fc.assert(
        fc.property(mutated(ack.map(encodeAck)), (bytes) => {
          alloc.largest = 0
          decodeHostileAck(bytes)
          assert.ok(alloc.largest <= bytes.length + 256)
        }),
        { numRuns: 2000 },
      )
    })
    assert.throws(() => decodeAck(new Uint8Array(DM_ACK_MAX_BYTES + 1)), /too large/)
  })
})

describe('a direct-message stream, bytes to messages', () => {
  it('mutated and arbitrarily chunked streams of envelopes: bounded buffering, only InvalidInputError, no changed envelope opens (numRuns 500)', async () => {
    const valid = await sealed(4)
    const stream = fc
      .tuple(fc.subarray([0, 1, 2, 3], { minLength: 1 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean())
      .chain(([picked, cuts, mutate]) => {
        const bytes = concat(picked.map((i) => encodeFrame(valid[i] as Uint8Array)))
        return (mutate ? mutated(fc.constant(bytes)) : fc.constant(bytes)).map((b) => chunked(b, cuts))
      })
    const originals = new Set(valid.map((v) => Buffer.from(v).toString('hex')))
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(stream, (chunks) => {
          const reader = new FrameReader(MAX_ENVELOPE)
          alloc.largest = 0
          try {
            for (const chunk of chunks) {
              for (const frame of reader.push(chunk)) {
                assert.ok(frame.length <= MAX_ENVELOPE)
                try {
                  const message = openAsRecipient(frame)
                  assert.ok(originals.has(Buffer.from(frame).toString('hex')), 'only unchanged envelopes open')
                  assert.equal(message.to, recipient.peerId)
                } catch (err) {
                  assert.ok(err instanceof InvalidInputError, `unexpected ${(err as Error).name}`)
                }
              }
              // What the reader keeps never exceeds one frame and its header.
              assert.ok(reader.pending <= MAX_ENVELOPE + MAX_VARINT, `${reader.pending} bytes pending`)
            }
          } catch (err) {
            assert.ok(err instanceof InvalidInputError, `unexpected ${(err as Error).name}`)
          }
          assert.ok(alloc.largest <= MAX_ENVELOPE + MAX_VARINT + 256, `allocated ${alloc.largest}`)
        }),
        { numRuns: 500 },
      )
    })
  })

  it('a frame announcing more than the bound is refused before its bytes arrive (numRuns 500)', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_ENVELOPE + 1, max: 2 ** 34 }), (length) => {
        const reader = new FrameReader(MAX_ENVELOPE)
        assert.throws(() => reader.push(Uint8Array.from(frameHeader(length))), InvalidInputError)
      }),
      { numRuns: 500 },
    )
  })
})

describe('one-bit changes of signed messages', () => {
  it('no one-bit change of a signed topic message or of a sealed envelope is accepted (every byte, bit pos % 8)', async () => {
    let checked = 0
    for (const text of ['hi', 'x'.repeat(300)]) {
      const record = await signTopicMessage(sender, {
        topic: 'general',
        from: sender.peerId,
        time: Date.now(),
        type: 'text/plain',
        body: new TextEncoder().encode(text),
      })
      assert.equal(decodeTopicMessage(record.bytes, { maxBytes: 4096 }).payload.topic, 'general')
      for (let pos = 0; pos < record.bytes.length; pos++) {
        const bytes = Uint8Array.from(record.bytes)
        bytes[pos] = (bytes[pos] as number) ^ (1 << (pos % 8))
        assert.throws(() => decodeTopicMessage(bytes, { maxBytes: 4096 }), InvalidInputError)
        checked++
      }
    }
    for (const envelope of await sealed(2)) {
      assert.equal(openAsRecipient(envelope).to, recipient.peerId)
      for (let pos = 0; pos < envelope.length; pos++) {
        const bytes = Uint8Array.from(envelope)
        bytes[pos] = (bytes[pos] as number) ^ (1 << (pos % 8))
        assert.throws(() => openAsRecipient(bytes), InvalidInputError)
        checked++
      }
    }
    assert.ok(checked > 1_000, `${checked} one-bit changes`)
  })
})
