/**
 * Properties of the direct-message envelope decoder (src/messaging/dm-envelope.ts), which every
 * frame on `/lateral/dm/1.0.0` meets: sealed messages round-trip; random bytes and mutated
 * envelopes raise only InvalidInputError and no changed envelope opens; envelopes sealed and
 * signed properly around payloads of the wrong shape raise only InvalidInputError; the size
 * bound is applied before decoding; nothing larger than the input (plus a small constant for the
 * key exchange and hashing) is allocated.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { InvalidInputError } from '../src/core/errors.ts'
import { publicKeyFromPeerId } from '../src/core/signer.ts'
import { createDeviceSigner } from '../src/identity/device-signer.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import {
  type DirectMessage,
  DM_ENVELOPE_OVERHEAD_BYTES,
  newMessageId,
  openDirectMessage,
  sealDirectMessage,
} from '../src/messaging/dm-envelope.ts'
import { spyAllocations } from './helpers/allocation-spy.ts'
import { anyCborValue, mutated } from './helpers/mutations.ts'

const MAX_BODY = 64 * 1024
/** Key agreement, HKDF, AEAD and signature checks allocate a few small blocks beyond the input. */
const CONSTANT_ALLOCATION = 256
const NOW = Date.UTC(2030, 0, 1)

const sender = createDeviceSigner(generateDeviceKey())
const recipient = createDeviceSigner(generateDeviceKey())

const directMessage: fc.Arbitrary<DirectMessage> = fc.record({
  id: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex')),
  from: fc.constant(sender.peerId),
  to: fc.constant(recipient.peerId),
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  time: fc.integer({ min: 0, max: NOW }),
  type: fc.constantFrom('text/plain', 'application/json; charset=utf-8'),
  body: fc.uint8Array({ maxLength: 2048 }),
})

const anyValue = anyCborValue(40)

/** A valid message with fields replaced by values of any type (the envelope is still sealed to the recipient). */
const wrongMessage = fc
  .tuple(
    directMessage,
    fc.dictionary(fc.constantFrom('id', 'from', 'seq', 'time', 'type', 'body'), anyValue, { minKeys: 1 }),
  )
  .map(([m, replaced]) => ({ ...m, ...replaced }) as unknown as DirectMessage)

function open(bytes: Uint8Array): DirectMessage {
  return openDirectMessage(bytes, recipient.peerId, recipient, publicKeyFromPeerId, {
    maxBodyBytes: MAX_BODY,
    now: NOW,
  })
}

/** Open hostile bytes: the sender's message or InvalidInputError, with allocations bounded by the input. */
function openHostile(bytes: Uint8Array, alloc: { largest: number }): DirectMessage | undefined {
  alloc.largest = 0
  let message: DirectMessage | undefined
  try {
    message = open(bytes)
  } catch (err) {
    assert.ok(err instanceof InvalidInputError, `unexpected ${(err as Error).name}: ${(err as Error).message}`)
  }
  assert.ok(
    alloc.largest <= bytes.length + CONSTANT_ALLOCATION,
    `allocated ${alloc.largest} bytes for ${bytes.length} bytes of input`,
  )
  return message
}

describe('direct message envelope properties', () => {
  it('sealed messages open to the same message (numRuns 150)', async () => {
    await fc.assert(
      fc.asyncProperty(directMessage, async (m) => {
        const bytes = await sealDirectMessage(m, sender, recipient.publicKey)
        assert.deepEqual(open(bytes), { ...m })
      }),
      { numRuns: 150 },
    )
  })

  it('random bytes raise only InvalidInputError (numRuns 1000)', async () => {
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
          assert.equal(openHostile(bytes, alloc), undefined)
        }),
        { numRuns: 1000 },
      )
    })
  })

  it('no changed envelope opens, and only InvalidInputError is raised (numRuns 1000)', async () => {
    const sealed = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        sealDirectMessage(
          {
            id: newMessageId(),
            from: sender.peerId,
            to: recipient.peerId,
            seq: i + 1,
            time: NOW - i,
            type: 'text/plain',
            body: new Uint8Array(i * 50).fill(i),
          },
          sender,
          recipient.publicKey,
        ),
      ),
    )
    const pick = fc.nat({ max: sealed.length - 1 })
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(
          pick.chain((i) => fc.tuple(fc.constant(i), mutated(fc.constant(sealed[i] as Uint8Array)))),
          ([i, bytes]) => {
            const opened = openHostile(bytes, alloc)
            if (opened !== undefined) assert.deepEqual(bytes, sealed[i], 'a changed envelope opened')
          },
        ),
        { numRuns: 1000 },
      )
    })
  })

  it('properly sealed messages of the wrong shape raise only InvalidInputError (numRuns 300)', async () => {
    let sealedCount = 0
    await fc.assert(
      fc.asyncProperty(wrongMessage, async (m) => {
        let bytes: Uint8Array
        try {
          bytes = await sealDirectMessage(m, sender, recipient.publicKey)
        } catch {
          return // the sending side refused it (e.g. a value DAG-CBOR cannot encode): nothing to open
        }
        sealedCount++
        await spyAllocations((alloc) => openHostile(bytes, alloc))
      }),
      { numRuns: 300 },
    )
    // Most cases must reach the recipient's checks, or the property says little.
    assert.ok(sealedCount > 200, `only ${sealedCount} of 300 cases were sealed`)
  })

  it('envelopes over the size bound are refused before decoding (numRuns 100)', async () => {
    // Real envelopes, sealed to the recipient: only the size check stands between them and decryption.
    const cases = fc.tuple(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 1, max: 64 }))
    await fc.assert(
      fc.asyncProperty(cases, async ([maxBody, over]) => {
        const body = new Uint8Array(maxBody + DM_ENVELOPE_OVERHEAD_BYTES + over)
        const m = {
          id: newMessageId(),
          from: sender.peerId,
          to: recipient.peerId,
          seq: 1,
          time: NOW,
          type: 'text/plain',
          body,
        }
        const bytes = await sealDirectMessage(m, sender, recipient.publicKey)
        await spyAllocations((alloc) => {
          assert.throws(
            () => openDirectMessage(bytes, recipient.peerId, recipient, publicKeyFromPeerId, { maxBodyBytes: maxBody }),
            InvalidInputError,
          )
          assert.equal(alloc.largest, 0, 'nothing is allocated for an oversized envelope')
        })
      }),
      { numRuns: 100 },
    )
  })
})
