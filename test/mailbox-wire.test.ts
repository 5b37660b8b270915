// The decoders of /lateral/mailbox/1.0.0: sizes bounded before decoding, exact fields, and
// nothing but InvalidInputError for hostile bytes.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import { MAILBOX_CONTROL_MAX_BYTES } from '../src/core/constants.ts'
import { InvalidInputError } from '../src/core/errors.ts'
import {
  decodeAck,
  decodeAnswer,
  decodeHandOver,
  decodeRequest,
  encode,
  encodeHandOver,
  envelopeRecipient,
} from '../src/mailbox/wire.ts'

const refused = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (err: Error) => err instanceof InvalidInputError && pattern.test(err.message))

describe('mailbox wire format', () => {
  it('requests, answers, hand-over frames and acks round-trip', () => {
    for (const r of [
      { op: 'deposit', identity: 'bafyabc', device: '12D3KooWabc' },
      { op: 'collect', identity: 'bafyabc' },
      { op: 'notify', identity: 'bafyabc', count: 3 },
    ] as const) {
      assert.deepEqual(decodeRequest(encode(r)), r)
    }
    for (const a of [{ ok: true }, { ok: true, count: 0 }, { ok: false, code: 'quota', error: 'full' }] as const) {
      assert.deepEqual(decodeAnswer(encode(a)), a)
    }
    assert.deepEqual(decodeHandOver(encodeHandOver({ envelope: new Uint8Array([1, 2]) }), 100), {
      envelope: new Uint8Array([1, 2]),
    })
    assert.deepEqual(decodeHandOver(encodeHandOver({ done: true, remaining: 2 }), 100), { done: true, remaining: 2 })
    assert.deepEqual(decodeAck(encode({ ok: false, code: 'inbox-full' })), { ok: false, code: 'inbox-full' })
  })

  it('refuses frames over the bound before decoding them', () => {
    const big = new Uint8Array(MAILBOX_CONTROL_MAX_BYTES + 1)
    refused(() => decodeRequest(big), /too large/)
    refused(() => decodeAnswer(big), /too large/)
    refused(() => decodeAck(big), /too large/)
    refused(() => decodeHandOver(encodeHandOver({ envelope: new Uint8Array(200) }), 100), /too large/)
  })

  it('refuses extra or missing fields, unknown requests and codes, bad identifiers', () => {
    refused(() => decodeRequest(cbor.encode({ op: 'collect', identity: 'bafy', extra: 1 })), /extra fields/)
    refused(() => decodeRequest(cbor.encode({ op: 'deposit', identity: 'bafy' })), /missing/)
    refused(() => decodeRequest(cbor.encode({ op: 'steal', identity: 'bafy' })), /unknown request/)
    refused(() => decodeRequest(cbor.encode({ op: 'collect', identity: '../x' })), /bad "identity"/)
    refused(() => decodeRequest(cbor.encode({ op: 'notify', identity: 'bafy', count: -1 })), /bad "count"/)
    refused(() => decodeAnswer(cbor.encode({ ok: false, code: 'nope', error: 'x' })), /bad answer "code"/)
    refused(() => decodeAnswer(cbor.encode({ ok: 1 })), /bad answer "ok"/)
    refused(() => decodeHandOver(cbor.encode({ done: false, remaining: 0 }), 100), /bad "done"/)
    refused(() => decodeAck(cbor.encode({ ok: 'yes' })), /bad ack "ok"/)
    refused(() => decodeRequest(cbor.encode([1, 2])), /not a map/)
    refused(() => decodeRequest(new Uint8Array([0xff, 0x00])), /not DAG-CBOR/)
  })

  it('hostile bytes raise only InvalidInputError', () => {
    for (let i = 0; i < 2_000; i++) {
      const bytes = randomBytes(1 + (i % 64))
      for (const decode of [decodeRequest, decodeAnswer, decodeAck, (b: Uint8Array) => decodeHandOver(b, 128)]) {
        try {
          decode(bytes)
        } catch (err) {
          assert.ok(err instanceof InvalidInputError, `${(err as Error).name}: ${(err as Error).message}`)
        }
      }
      assert.doesNotThrow(() => envelopeRecipient(bytes))
    }
  })

  it('reads only the clear "to" of an envelope', () => {
    assert.equal(envelopeRecipient(cbor.encode({ v: 2, to: '12D3KooWabc', ct: new Uint8Array(3) })), '12D3KooWabc')
    assert.equal(envelopeRecipient(cbor.encode({ v: 2 })), undefined)
    assert.equal(envelopeRecipient(new TextEncoder().encode('plain text')), undefined)
  })
})
