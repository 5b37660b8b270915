// Direct-message delivery under concurrency and faults: sequence numbers, truthful results,
// ack deadlines, and an outbox that never gets back what was acknowledged.
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import { DM_PROTOCOL } from '../src/core/constants.ts'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import type { Messaging } from '../src/messaging/index.ts'
import { type MessagingPeers, messagingPeers } from './helpers/messaging-peers.ts'

const text = (b: Uint8Array) => new TextDecoder().decode(b)

/** Fail with `what` if `promise` has not settled after `ms`, instead of hanging the run. */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}

describe('direct-message delivery', () => {
  let peers: MessagingPeers
  beforeEach(() => {
    peers = messagingPeers()
  })
  afterEach(async () => {
    await peers.stop()
  })

  it('an unreachable recipient: the outbox hands its messages to the fallback (a mailbox), in order; what it does not take stays queued', async () => {
    const sender = await peers.add({ messaging: { retryMinMs: 60_000, retryMaxMs: 60_000, dmOpenTimeoutMs: 1000 } })
    const away = await peers.add()
    await away.messaging?.stop()
    await away.net.stop()
    const deposits: Array<{ to: string; seqs: number[] }> = []
    let takeAtMost = 1
    const deposited: string[] = []
    sender.messaging?.addEventListener('dm:deposited', (e) => deposited.push(e.detail.id))
    sender.messaging?.setFallback({
      deposit: async (to, envelopes) => {
        deposits.push({ to, seqs: envelopes.map((e) => e.seq) })
        const taken = Math.min(takeAtMost, envelopes.length)
        return taken < envelopes.length
          ? { taken, mailbox: 'mailbox-peer', error: 'over quota' }
          : { taken, mailbox: 'mailbox-peer' }
      },
    })
    const first = await sender.messaging?.send(away.signer.peerId, 'one')
    assert.equal(first?.status, 'deposited')
    assert.equal(first?.mailbox, 'mailbox-peer')
    assert.deepEqual(await sender.messaging?.outbox(), [], 'a deposited message leaves the outbox')
    takeAtMost = 0
    const second = await sender.messaging?.send(away.signer.peerId, 'two')
    assert.equal(second?.status, 'queued', 'not taken: it waits for the next attempt')
    assert.match(second?.error ?? '', /no mailbox took it: over quota/, 'the mailbox says why')
    assert.equal((await sender.messaging?.outbox())?.length, 1)
    // A deposit of some: those taken leave, the rest wait (none put back by the failed dial).
    takeAtMost = 1
    const third0 = await sender.messaging?.send(away.signer.peerId, 'two and a half')
    assert.equal(third0?.status, 'queued')
    const left = (await sender.messaging?.outbox())?.map((m) => new TextDecoder().decode(m.body))
    assert.deepEqual(left, ['two and a half'], 'the first was taken and is not back in the outbox')
    takeAtMost = 0
    assert.deepEqual(deposits, [
      { to: away.signer.peerId, seqs: [1] },
      { to: away.signer.peerId, seqs: [2] },
      { to: away.signer.peerId, seqs: [2, 3] },
    ])
    assert.deepEqual(deposited, [first?.id, second?.id])
    sender.messaging?.setFallback(undefined)
    const third = await sender.messaging?.send(away.signer.peerId, 'three')
    assert.equal(third?.status, 'queued')
    assert.equal(deposits.length, 3, 'no fallback, no deposit')
  })

  it('20 concurrent sends to one peer get seq 1..20, are all delivered once, in order', async () => {
    const a = await peers.add()
    const b = await peers.add()
    await peers.connect(a, b)
    const sender = a.messaging as Messaging
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sender.send(b.signer.peerId, `concurrent ${i}`)),
    )
    assert.deepEqual(
      results.map((r) => r.seq),
      Array.from({ length: 20 }, (_, i) => i + 1),
      'distinct sequence numbers in call order',
    )
    assert.deepEqual(
      results.map((r) => r.status),
      Array(20).fill('delivered'),
    )
    const inbox = await (b.messaging as Messaging).inbox()
    assert.deepEqual(
      inbox.map((m) => text(m.body)),
      Array.from({ length: 20 }, (_, i) => `concurrent ${i}`),
      'every message stored once, in order',
    )
    assert.deepEqual(
      inbox.map((m) => m.seq),
      Array.from({ length: 20 }, (_, i) => i + 1),
    )
    assert.deepEqual(await sender.outbox(), [])
  })

  it('a recipient that takes the envelope and never acknowledges leaves the message queued after the ack deadline', async () => {
    const a = await peers.add({ messaging: { dmAckTimeoutMs: 300, retryMinMs: 60_000, retryMaxMs: 60_000 } })
    const silent = await peers.add({ messaging: false })
    let envelopes = 0
    await silent.net.handle(DM_PROTOCOL, async (stream) => {
      for await (const _ of readFrames(stream, 1 << 20)) envelopes++
    })
    await peers.connect(a, silent)
    const started = Date.now()
    const result = await within(
      5_000,
      'send to a silent recipient',
      (a.messaging as Messaging).send(silent.signer.peerId, 'hello?'),
    )
    const elapsed = Date.now() - started
    assert.equal(result.status, 'queued')
    assert.match(result.error ?? '', /no acknowledgement within 300 ms/)
    assert.ok(elapsed >= 300 && elapsed < 3_000, `resolved after ${elapsed} ms`)
    assert.equal(envelopes, 1, 'the envelope reached the recipient')
    const outbox = await (a.messaging as Messaging).outbox()
    assert.deepEqual(
      outbox.map((e) => [text(e.body), e.attempts]),
      [['hello?', 1]],
    )
  })

  it('a stream cut under a message (its connection closed) is tried again at once on the connection the peer has', async () => {
    const a = await peers.add({ messaging: { retryMinMs: 60_000, retryMaxMs: 60_000 } })
    const b = await peers.add({ messaging: false })
    // The first stream is reset after the envelope arrives, as when a relayed connection closes
    // under it once a direct one exists; the next stream is acknowledged.
    let streams = 0
    await b.net.handle(DM_PROTOCOL, async (stream) => {
      const first = streams++ === 0
      for await (const _ of readFrames(stream, 1 << 20)) {
        if (first) {
          stream.abort(new Error('connection closed'))
          return
        }
        await stream.write(encodeFrame(cbor.encode({ ok: true })))
      }
    })
    await peers.connect(a, b)
    const sent = await within(20_000, 'send', (a.messaging as Messaging).send(b.signer.peerId, 'hello'))
    assert.equal(sent.status, 'delivered', JSON.stringify(sent))
    assert.equal(streams, 2)
    assert.deepEqual(await (a.messaging as Messaging).outbox(), [])
  })

  it('a message acknowledged before a later error in the same flush is not queued again; the outbox count stays exact', async () => {
    const a = await peers.add({ messaging: { outboxCap: 4 } })
    const b = await peers.add({ messaging: false })
    // The recipient refuses everything (rate limit, retry in a minute), or acks the first envelope
    // of a stream and then resets it.
    let mode: 'refuse' | 'ack-then-reset' = 'refuse'
    const acked: number[] = []
    let frames = 0
    await b.net.handle(DM_PROTOCOL, async (stream) => {
      let onStream = 0
      for await (const _ of readFrames(stream, 1 << 20)) {
        frames++
        if (mode === 'refuse') {
          await stream.write(encodeFrame(cbor.encode({ ok: false, code: 'rate-limited', retryAfterMs: 60_000 })))
          continue
        }
        if (onStream++ === 0) {
          acked.push(frames)
          await stream.write(encodeFrame(cbor.encode({ ok: true })))
          continue
        }
        stream.abort(new Error('recipient went away'))
        return
      }
    })
    await peers.connect(a, b)
    const sender = a.messaging as Messaging
    const send = (body: string) => sender.send(b.signer.peerId, body)
    for (const body of ['one', 'two', 'three']) assert.equal((await send(body)).status, 'queued')

    mode = 'ack-then-reset'
    const four = await send('four')
    assert.equal(four.status, 'queued')
    assert.equal(acked.length, 1, 'the recipient acknowledged one envelope, then reset the stream')
    assert.deepEqual(
      (await sender.outbox()).map((e) => text(e.body)),
      ['two', 'three', 'four'],
      'the acknowledged message is gone for good',
    )

    mode = 'refuse'
    assert.equal((await send('five')).status, 'queued')
    assert.equal((await sender.outbox()).length, 4, 'at the cap of 4')
    await assert.rejects(send('six'), { name: 'OutboxFullError' })
    assert.deepEqual(
      (await sender.outbox()).map((e) => text(e.body)),
      ['two', 'three', 'four', 'five'],
    )
  })
})
