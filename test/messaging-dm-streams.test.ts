// Incoming direct-message streams from honest but unlucky peers (resets, silence), and the
// bounded seen records that deduplicate retransmissions.
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import { DM_PROTOCOL } from '../src/core/constants.ts'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import { newMessageId, sealDirectMessage } from '../src/messaging/dm-envelope.ts'
import type { Messaging } from '../src/messaging/index.ts'
import { waitFor } from '../src/testing/wait.ts'
import { type MessagingPeer, type MessagingPeers, messagingPeers } from './helpers/messaging-peers.ts'

/** Seen records in a peer's datastore, by sender. */
async function seenBySender(peer: MessagingPeer): Promise<Map<string, number>> {
  const counts = new Map<string, number>()
  for await (const key of peer.datastore.queryKeys({ prefix: '/lateral/dm/seen/' })) {
    const from = key.toString().split('/')[4] as string
    counts.set(from, (counts.get(from) ?? 0) + 1)
  }
  return counts
}

/** Write one envelope on a fresh stream and read its ack. */
async function deliverRaw(from: MessagingPeer, to: MessagingPeer, envelope: Uint8Array): Promise<unknown> {
  const stream = await from.net.openStream(to.signer.peerId, DM_PROTOCOL)
  await stream.write(encodeFrame(envelope))
  const next = await readFrames(stream, 4096)[Symbol.asyncIterator]().next()
  await stream.close()
  return cbor.decode(next.value as Uint8Array)
}

describe('incoming direct-message streams', () => {
  let peers: MessagingPeers
  beforeEach(() => {
    peers = messagingPeers()
  })
  afterEach(async () => {
    await peers.stop()
  })

  it('a stream reset in the middle of a frame costs the sender no penalty', async () => {
    const sender = await peers.add({ messaging: false })
    const recipient = await peers.add()
    await peers.connect(sender, recipient)
    const stream = await sender.net.openStream(recipient.signer.peerId, DM_PROTOCOL)
    // Half of a 100-byte frame, then the sender's side goes away (a crash, a closed laptop).
    await stream.write(encodeFrame(new Uint8Array(100)).subarray(0, 50))
    stream.abort(new Error('sender went away'))
    await waitFor(() => recipient.logs.some((l) => l.message.startsWith('direct-message stream')), {
      what: 'the recipient to see the reset',
      timeoutMs: 5_000,
    })
    assert.equal(recipient.net.penalty(sender.signer.peerId), 0)
    // A protocol violation still costs: a frame longer than the limit is announced.
    const bad = await sender.net.openStream(recipient.signer.peerId, DM_PROTOCOL)
    await bad.write(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f))
    await waitFor(() => recipient.net.penalty(sender.signer.peerId) > 0, { what: 'the penalty', timeoutMs: 5_000 })
  })

  it('a stream that opens and sends nothing is closed after the idle timeout, without penalty', async () => {
    const sender = await peers.add({ messaging: false })
    const recipient = await peers.add({ messaging: { dmIdleTimeoutMs: 250 } })
    await peers.connect(sender, recipient)
    const stream = await sender.net.openStream(recipient.signer.peerId, DM_PROTOCOL)
    const opened = Date.now()
    const ended = (async () => {
      try {
        for await (const _ of stream) {
          // nothing is ever sent back
        }
      } catch {
        // reset by the recipient: what we wait for
      }
      return Date.now() - opened
    })()
    const guard = new Promise<number>((_, reject) =>
      setTimeout(() => reject(new Error('stream still open')), 5_000).unref(),
    )
    const elapsed = await Promise.race([ended, guard])
    assert.ok(elapsed >= 200 && elapsed < 4_000, `closed after ${elapsed} ms`)
    await waitFor(() => recipient.logs.some((l) => l.message === 'direct-message stream closed: idle'), {
      what: 'the idle log line',
      timeoutMs: 2_000,
    })
    assert.equal(recipient.net.penalty(sender.signer.peerId), 0)
  })

  it('seen records are bounded per sender and in all, and the last message is still deduplicated', async () => {
    const recipient = await peers.add({ messaging: { dmSeenPerSender: 4, dmSeenCap: 6 } })
    const a = await peers.add()
    const c = await peers.add()
    await peers.connect(a, recipient)
    await peers.connect(c, recipient)
    for (let i = 0; i < 10; i++) {
      assert.equal((await (a.messaging as Messaging).send(recipient.signer.peerId, `a ${i}`)).status, 'delivered')
    }
    assert.deepEqual(await seenBySender(recipient), new Map([[a.signer.peerId, 4]]))

    // The last message from a sender, retransmitted (its ack was lost): acknowledged as a duplicate, stored once.
    const envelope = await sealDirectMessage(
      {
        id: newMessageId(),
        from: a.signer.peerId,
        to: recipient.signer.peerId,
        seq: 11,
        time: Date.now(),
        type: 'text/plain',
        body: new TextEncoder().encode('a 10'),
      },
      a.signer,
      recipient.signer.publicKey,
    )
    const first = (await deliverRaw(a, recipient, envelope)) as { ok: boolean; duplicate?: boolean }
    const again = (await deliverRaw(a, recipient, envelope)) as { ok: boolean; duplicate?: boolean }
    assert.deepEqual([first.ok, first.duplicate, again.ok, again.duplicate], [true, undefined, true, true])
    assert.equal((await (recipient.messaging as Messaging).inbox()).length, 11)

    for (let i = 0; i < 5; i++) {
      assert.equal((await (c.messaging as Messaging).send(recipient.signer.peerId, `c ${i}`)).status, 'delivered')
    }
    const seen = await seenBySender(recipient)
    const total = [...seen.values()].reduce((n, k) => n + k, 0)
    assert.ok(total <= 6, `at most 6 seen records in all (${total})`)
    assert.ok((seen.get(c.signer.peerId) ?? 0) <= 4, 'at most 4 for one sender')
    assert.ok((seen.get(c.signer.peerId) ?? 0) >= 1, "the newest sender's records are kept")
  })
})
