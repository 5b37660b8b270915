/**
 * Properties of the `/lateral/storage/1.0.0` codec and invocation arguments (src/storage/wire.ts):
 * every message round-trips; random bytes, mutated encodings and values of the wrong shape raise
 * only InvalidInputError; oversized frames are refused before decoding; whatever is accepted keeps
 * the documented bounds.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import fc from 'fast-check'
import { base58btc } from 'multiformats/bases/base58'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { STORAGE_NONCE_BYTES, STORAGE_WALK_MAX_STEPS } from '../src/core/constants.ts'
import { InvalidInputError } from '../src/core/errors.ts'
import {
  ANSWER_MAX_BYTES,
  checkArgs,
  decodeAnswer,
  decodeRequest,
  dropArgs,
  encodeMessage,
  putArgs,
  REFUSALS,
  REQUEST_MAX_BYTES,
  type StorageAnswer,
  type StorageRequest,
} from '../src/storage/wire.ts'
import { mutated } from './helpers/mutations.ts'

const PROOF_MAX = 1 << 20
const cid = fc
  .tuple(fc.constantFrom(0x55, 0x70), fc.uint8Array({ minLength: 32, maxLength: 32 }))
  .map(([codec, digest]) => CID.createV1(codec, Digest.create(0x12, digest)).toString())

const request: fc.Arbitrary<StorageRequest> = fc.record({
  op: fc.constantFrom('put', 'drop', 'check'),
  inv: fc.uint8Array({ minLength: 1, maxLength: 2048 }),
})

const answer: fc.Arbitrary<StorageAnswer> = fc.oneof(
  fc.record({ t: fc.constant('kept' as const), size: fc.nat() }),
  fc.constant({ t: 'dropped' as const }),
  fc.record({ t: fc.constant('proof' as const), digest: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
  fc.record({
    t: fc.constant('blocks' as const),
    blocks: fc.array(fc.uint8Array({ maxLength: 64 }), { minLength: 1, maxLength: STORAGE_WALK_MAX_STEPS + 1 }),
  }),
  fc.record({
    t: fc.constant('refused' as const),
    code: fc.constantFrom(...REFUSALS),
    error: fc.string({ maxLength: 1024 }),
  }),
)

/** Runs `fn`; passes when it returns or throws InvalidInputError, fails on any other throw. */
function onlyInvalidInput(fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof InvalidInputError, `${(err as Error).name}: ${(err as Error).message}`)
  }
}

describe('storage wire', () => {
  it('every request and answer round-trips', () => {
    fc.assert(
      fc.property(request, (r) => assert.deepEqual(decodeRequest(encodeMessage(r)), { ...r })),
      { numRuns: 300 },
    )
    fc.assert(
      fc.property(answer, (a) => assert.deepEqual(decodeAnswer(encodeMessage(a), PROOF_MAX), { ...a })),
      { numRuns: 300 },
    )
  })

  it('random bytes and mutated encodings raise only InvalidInputError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        onlyInvalidInput(() => decodeRequest(bytes))
        onlyInvalidInput(() => decodeAnswer(bytes, PROOF_MAX))
      }),
      { numRuns: 2000 },
    )
    fc.assert(
      fc.property(
        mutated(request.map((r) => encodeMessage(r))),
        mutated(answer.map((a) => encodeMessage(a))),
        (req, ans) => {
          onlyInvalidInput(() => decodeRequest(req))
          onlyInvalidInput(() => decodeAnswer(ans, PROOF_MAX))
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('refuses frames over their bound before decoding them', () => {
    const big = encodeMessage({ op: 'put', inv: new Uint8Array(REQUEST_MAX_BYTES) })
    assert.throws(() => decodeRequest(big), /too large/)
    assert.throws(() => decodeAnswer(encodeMessage({ t: 'kept', size: 1 }), 4), /too large/)
    assert.ok(ANSWER_MAX_BYTES < 4096)
  })

  it('arguments of the wrong shape raise only InvalidInputError; accepted ones keep the bounds', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 200 }),
      cid,
      fc.integer(),
      fc.double(),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(fc.nat({ max: 2 ** 33 }), { maxLength: 40 }),
      fc.constant(null),
    )
    const args = fc.dictionary(fc.constantFrom('cid', 'size', 'nonce', 'steps', 'range', 'extra'), value)
    fc.assert(
      fc.property(args, (a) => {
        onlyInvalidInput(() => putArgs(a))
        onlyInvalidInput(() => dropArgs(a))
        try {
          const { challenge } = checkArgs(a)
          assert.equal(challenge.nonce.length, STORAGE_NONCE_BYTES)
          assert.ok(challenge.steps.length <= STORAGE_WALK_MAX_STEPS)
          assert.ok(challenge.steps.every((s) => Number.isInteger(s) && s >= 0 && s <= 0xffffffff))
        } catch (err) {
          assert.ok(err instanceof InvalidInputError, (err as Error).message)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('accepts exactly the documented arguments', () => {
    const root = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
    assert.deepEqual(putArgs({ cid: root, size: 10 }), { cid: root, size: 10 })
    assert.throws(() => putArgs({ cid: root, size: -1 }), InvalidInputError)
    assert.throws(() => putArgs({ cid: root, size: 1, more: 1 }), /unknown field/)
    assert.throws(() => dropArgs({ cid: CID.parse(root).toString(base58btc) }), /canonical form/)
    const nonce = new Uint8Array(STORAGE_NONCE_BYTES)
    assert.throws(() => checkArgs({ cid: root, nonce, steps: new Array(33).fill(1) }), /at most 32/)
    assert.throws(() => checkArgs({ cid: root, nonce, steps: [2 ** 32] }), /32 bits/)
    assert.throws(() => checkArgs({ cid: root, nonce, steps: [], range: [1] }), /offset, length/)
    assert.deepEqual(checkArgs({ cid: root, nonce, steps: [1], range: [0, 5] }).challenge.range, [0, 5])
    assert.throws(() => decodeRequest(cbor.encode({ op: 'steal', inv: new Uint8Array(1) })), /unknown op/)
  })
})
