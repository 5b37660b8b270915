/**
 * Properties of what a pairing peer (or a person typing) can feed a device: the bounded frame
 * reader, the message decoder, the pairing-code decoder, and the new device's protocol handler
 * as a whole. Valid input round-trips; anything else gives the named error and nothing else,
 * never more than the bound held or allocated, and never a crash.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { encodeFrame, frameHeader } from '../src/core/framing.ts'
import { BoundedFrames } from '../src/identity/pairing/frames.ts'
import { createPairingCode, decodePairingCode } from '../src/identity/pairing/index.ts'
import { decodeMessage, encodeMessage, type PairingMessage } from '../src/identity/pairing/messages.ts'
import { spyAllocations } from './helpers/allocation-spy.ts'
import { anyCborValue, chunked, concat, mutated } from './helpers/mutations.ts'
import { duplexPair } from './helpers/pairing-duplex.ts'
import { confirmer, inviteOptions, newDevice, newDeviceResponder, stopResponders } from './helpers/pairing-fixture.ts'

const MAX_HEADER = 5
const cuts = fc.array(fc.nat(), { maxLength: 12 })
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 })

const message: fc.Arbitrary<PairingMessage> = fc.oneof(
  fc.record({
    t: fc.constant('hello' as const),
    code: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    commit: bytes32,
  }),
  fc.record({ t: fc.constant('commit' as const), commit: bytes32 }),
  fc.record({ t: fc.constant('reveal' as const), key: bytes32, nonce: bytes32 }),
  fc.record({ t: fc.constant('mac' as const), mac: bytes32 }),
  fc.record({ t: fc.constant('confirm' as const), mac: bytes32 }),
  fc.record({
    t: fc.constantFrom('offer' as const, 'join' as const, 'welcome' as const),
    payload: fc.uint8Array({ maxLength: 300 }),
  }),
  fc.record({ t: fc.constant('done' as const) }),
  fc.record(
    { t: fc.constant('abort' as const), reason: fc.string({ maxLength: 32 }), message: fc.string({ maxLength: 300 }) },
    { requiredKeys: ['t', 'reason'] },
  ),
)

/** Take every frame the reader gives for `chunks`; stop at the first error, which must be PairingProtocolError. */
function readAll(chunks: Uint8Array[], max: number): { frames: Uint8Array[]; error?: Error } {
  const reader = new BoundedFrames()
  const frames: Uint8Array[] = []
  for (const chunk of chunks) {
    reader.push(chunk)
    try {
      for (let f = reader.next(max); f !== undefined; f = reader.next(max)) {
        assert.ok(f.length <= max, `frame of ${f.length} bytes over the bound ${max}`)
        frames.push(f)
      }
    } catch (err) {
      assert.equal((err as Error).name, 'PairingProtocolError', (err as Error).message)
      return { frames, error: err as Error }
    }
    assert.ok(reader.pending <= max + MAX_HEADER + chunk.length, `reader holds ${reader.pending} bytes`)
  }
  return { frames }
}

describe('pairing decoders (properties)', () => {
  after(stopResponders)

  it('messages round-trip through frames whatever the chunking (numRuns 300)', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 6 }), cuts, (list, points) => {
        const stream = concat(list.map((m) => encodeFrame(encodeMessage(m))))
        const { frames, error } = readAll(chunked(stream, points), 1024)
        assert.equal(error, undefined)
        assert.deepEqual(
          frames.map((f) => decodeMessage(f, 1024)),
          list.map((m) => ({ ...m })),
        )
      }),
      { numRuns: 300 },
    )
  })

  it('random and mutated streams give messages or PairingProtocolError, within the bound held and allocated (numRuns 1000)', async () => {
    const valid = fc.array(message, { maxLength: 4 }).map((l) => concat(l.map((m) => encodeFrame(encodeMessage(m)))))
    await spyAllocations((alloc) => {
      fc.assert(
        fc.property(
          fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated(valid)),
          cuts,
          fc.nat({ max: 400 }),
          (bytes, points, max) => {
            alloc.largest = 0
            const { frames } = readAll(chunked(bytes, points), max)
            for (const f of frames) {
              try {
                decodeMessage(f, max)
              } catch (err) {
                assert.equal((err as Error).name, 'PairingProtocolError', (err as Error).message)
              }
            }
            assert.ok(alloc.largest <= max + MAX_HEADER, `allocated ${alloc.largest} bytes (bound ${max})`)
          },
        ),
        { numRuns: 1000 },
      )
    })
  })

  it('a frame length above the bound is refused from the header alone (numRuns 300)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1025, max: 2 ** 35 - 1 }), cuts, (claimed, points) => {
        const { error, frames } = readAll(chunked(Uint8Array.from(frameHeader(claimed)), points), 1024)
        assert.equal(error?.name, 'PairingProtocolError')
        assert.equal(frames.length, 0)
      }),
      { numRuns: 300 },
    )
  })

  it('any DAG-CBOR value that is not a well-formed message is a PairingProtocolError (numRuns 500)', () => {
    fc.assert(
      fc.property(anyCborValue(), (value) => {
        try {
          const m = decodeMessage(cbor.encode(value as never), 1024)
          assert.equal(typeof m.t, 'string')
        } catch (err) {
          assert.equal((err as Error).name, 'PairingProtocolError', (err as Error).message)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('pairing codes round-trip; typos and junk give InvalidPairingCodeError (numRuns 500)', () => {
    const key = newDevice().publicKey
    const addresses = fc.array(
      fc.oneof(
        fc.ipV4().map((ip) => `/ip4/${ip}/tcp/4001`),
        fc.nat({ max: 65535 }).map((p) => `/ip6/::1/tcp/${p}/ws`),
      ),
      { maxLength: 5 },
    )
    fc.assert(
      fc.property(
        addresses,
        fc.nat({ max: 10 ** 9 }),
        fc.nat(),
        fc.integer({ min: 0, max: 31 }),
        (addrs, ttl, at, symbol) => {
          const made = createPairingCode({ publicKey: key, addresses: addrs, ttlMs: ttl, now: () => 1_700_000_000_000 })
          const code = decodePairingCode(made.code.toLowerCase().replace(/(.{5})/g, '$1-'))
          assert.deepEqual(code.secret, made.secret)
          assert.equal(code.expiresAt, made.expiresAt)
          assert.deepEqual(
            code.addresses,
            addrs.slice(0, 3).map((a) => `${a}/p2p/${code.peerId}`),
          )
          // One symbol changed: the checksum (or the decoder) catches it.
          const i = at % made.code.length
          const replaced = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'[symbol] as string
          if (replaced !== made.code[i]) {
            const typo = made.code.slice(0, i) + replaced + made.code.slice(i + 1)
            assert.throws(() => decodePairingCode(typo), { name: 'InvalidPairingCodeError' })
          }
        },
      ),
      { numRuns: 500 },
    )
    fc.assert(
      fc.property(fc.string({ maxLength: 1200 }), (text) => {
        try {
          decodePairingCode(text)
        } catch (err) {
          assert.equal((err as Error).name, 'InvalidPairingCodeError', (err as Error).message)
        }
      }),
      { numRuns: 500 },
    )
    assert.throws(() => decodePairingCode('0'.repeat(1025)), {
      name: 'InvalidPairingCodeError',
      message: /at most 1024/,
    })
  })

  it('the new device answers any byte stream without throwing, and a stranger never uses up its code (numRuns 60)', async () => {
    const created = newDeviceResponder({ stepTimeoutMs: 50 })
    const invitation = created.responder.invite(
      inviteOptions(
        created.side,
        confirmer(created.side, () => true),
      ),
    )
    const valid = fc.array(message, { maxLength: 4 }).map((l) => concat(l.map((m) => encodeFrame(encodeMessage(m)))))
    const stranger = newDevice()
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 400 }), mutated(valid)), cuts, async (bytes, points) => {
        const [theirs, ours] = duplexPair(stranger.peerId, created.signer.peerId)
        const handled = created.responder.handle(ours)
        for (const chunk of chunked(bytes, points)) await theirs.write(chunk)
        await theirs.close()
        await handled
        assert.equal(created.responder.waiting(), 1)
      }),
      { numRuns: 60 },
    )
    assert.deepEqual(created.side.shown, [])
    created.responder.stop()
    await assert.rejects(invitation.result, { name: 'PairingAbortedError' })
  })
})
