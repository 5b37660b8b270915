// Mailbox bounds and checks in one process: what a mailbox refuses (the wrong device, another
// device's envelope, a sender over its share, frames over the bound), hands over to whom, and
// keeps across a restart or a full inbox.
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import { MAILBOX_PROTOCOL } from '../src/core/constants.ts'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import { publicKeyFromPeerId } from '../src/core/signer.ts'
import { createDeviceSigner } from '../src/identity/device-signer.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { type DirectMessage, newMessageId, sealDirectMessage } from '../src/messaging/dm-envelope.ts'
import { waitFor } from '../src/testing/wait.ts'
import { type MailboxPeer, type MailboxPeers, mailboxPeers } from './helpers/mailbox-peers.ts'

const text = (b: Uint8Array) => new TextDecoder().decode(b)

/** An envelope sealed by a throwaway sender to `to`. */
async function envelopeFor(to: MailboxPeer, body = 'hi'): Promise<Uint8Array> {
  const signer = createDeviceSigner(generateDeviceKey())
  const message: DirectMessage = {
    id: newMessageId(),
    from: signer.peerId,
    to: to.peerId,
    seq: 1,
    time: Date.now(),
    type: 'text/plain; charset=utf-8',
    body: new TextEncoder().encode(body),
  }
  return sealDirectMessage(message, signer, publicKeyFromPeerId(to.peerId))
}

/** Speak `/lateral/mailbox/1.0.0` by hand: write `frames`, read every answer until the mailbox closes. */
async function raw(from: MailboxPeer, box: MailboxPeer, frames: Uint8Array[]): Promise<unknown[]> {
  const stream = await from.net.openStream(box.peerId, MAILBOX_PROTOCOL)
  const answers: unknown[] = []
  const reading = (async () => {
    for await (const frame of readFrames(stream, 1 << 20)) answers.push(cbor.decode(frame))
  })()
  for (const f of frames) await stream.write(encodeFrame(f))
  await stream.close().catch(() => {})
  await reading.catch(() => {})
  return answers
}

describe('mailbox: bounds and checks', () => {
  let peers: MailboxPeers
  beforeEach(() => {
    peers = mailboxPeers()
  })
  afterEach(async () => {
    await peers.stop()
  })

  async function scene(box: Parameters<MailboxPeers['add']>[0] = {}, sender: Parameters<MailboxPeers['add']>[0] = {}) {
    const mailbox = await peers.add({ identity: 'bafycarol', ...box })
    const bob1 = await peers.add({ identity: 'bafybob', started: false })
    const bob2 = await peers.add({ identity: 'bafybob', started: false })
    peers.world.set('bafybob', { devices: [bob1.peerId, bob2.peerId], mailboxes: [mailbox.peerId] })
    mailbox.authority.grant('bafybob')
    const alice = await peers.add({ identity: 'bafyalice', ...sender })
    await peers.connect(alice, mailbox)
    return { box: mailbox, bob1, bob2, alice }
  }

  it('a deposit naming a device that is not one of the identity, or an envelope for another device, is refused', async () => {
    const { box, bob1, bob2, alice } = await scene()
    const stranger = createDeviceSigner(generateDeviceKey()).peerId
    const notADevice = await raw(alice, box, [cbor.encode({ op: 'deposit', identity: 'bafybob', device: stranger })])
    assert.equal((notADevice[0] as { code: string }).code, 'not-a-device')
    const forBob2 = await envelopeFor(bob2)
    const answers = await raw(alice, box, [
      cbor.encode({ op: 'deposit', identity: 'bafybob', device: bob1.peerId }),
      forBob2,
      new TextEncoder().encode('not an envelope'),
    ])
    assert.deepEqual(
      answers.map((a) => (a as { ok: boolean; code?: string }).code ?? 'ok'),
      ['ok', 'wrong-device', 'wrong-device'],
    )
    assert.deepEqual((await box.mailbox?.status())?.holding, [])
  })

  it('one sender fills at most its share of the quota; another sender still gets in; the same envelope twice is held once', async () => {
    const { box, bob1, alice } = await scene({ mailbox: { senderSharePercent: 50 } })
    box.authority.grant('bafybob', { quota: 4_000 })
    const dave = await peers.add({ identity: 'bafydave' })
    await peers.connect(dave, box)
    const codes: string[] = []
    box.mailbox?.addEventListener('mailbox:refused', (e) => codes.push(e.detail.code))
    const statuses: string[] = []
    for (let i = 0; i < 8 && !codes.includes('sender-share'); i++) {
      statuses.push((await alice.messaging.send(bob1.peerId, `flood ${i}`)).status)
    }
    assert.deepEqual(codes, ['sender-share'])
    const aliceBytes = (await box.mailbox?.status())?.holding[0]?.bytes ?? 0
    assert.ok(aliceBytes <= 2_000, `alice holds ${aliceBytes} bytes of a 2000-byte share`)
    assert.equal((await dave.messaging.send(bob1.peerId, 'room for me?')).status, 'deposited')

    const envelope = await envelopeFor(bob1, 'twice')
    const before = (await box.mailbox?.status())?.holding[0]?.messages ?? 0
    const open = cbor.encode({ op: 'deposit', identity: 'bafybob', device: bob1.peerId })
    const answers = [...(await raw(dave, box, [open, envelope])), ...(await raw(dave, box, [open, envelope]))]
    assert.deepEqual(
      answers.map((a) => (a as { ok: boolean }).ok),
      [true, true, true, true],
    )
    assert.equal((await box.mailbox?.status())?.holding[0]?.messages, before + 1)
  })

  it('a frame over the envelope bound resets the stream before it is read, and costs the sender a penalty', async () => {
    const { box, bob1, alice } = await scene({ mailbox: { maxEnvelopeBytes: 2_048 } })
    const answers = await raw(alice, box, [
      cbor.encode({ op: 'deposit', identity: 'bafybob', device: bob1.peerId }),
      new Uint8Array(4_096),
    ])
    assert.deepEqual(answers, [{ ok: true }])
    await waitFor(() => box.net.penalty(alice.peerId) > 0, { what: 'a penalty' })
    assert.ok(box.logs.some((l) => /exceeds the limit of 2048/.test(JSON.stringify(l.fields?.err))))
  })

  it('a collection hands over only the envelopes addressed to the requesting device, and only to a device of the identity', async () => {
    const { box, bob1, bob2, alice } = await scene()
    await alice.messaging.sendToPerson('bafybob', 'for both')
    const stranger = await peers.add({ identity: 'bafyalice' })
    await peers.connect(stranger, box)
    const refused = await raw(stranger, box, [cbor.encode({ op: 'collect', identity: 'bafybob' })])
    assert.equal((refused[0] as { code: string }).code, 'not-a-device')
    await peers.start(bob2, { connectTo: [box] })
    const [result] = (await bob2.mailbox?.collect()) ?? []
    assert.equal(result?.remaining, 0)
    assert.deepEqual(
      (await bob2.messaging.inbox()).map((m) => [m.to, text(m.body)]),
      [[bob2.peerId, 'for both']],
    )
    assert.deepEqual((await box.mailbox?.status())?.holding[0]?.devices, [{ device: bob1.peerId, messages: 1 }])
  })

  it('held mail survives a restart of the mailbox; a full inbox keeps the rest at the mailbox until there is room', async () => {
    const { box, bob1, alice } = await scene()
    for (const t of ['one', 'two', 'three'])
      assert.equal((await alice.messaging.send(bob1.peerId, t)).status, 'deposited')
    await peers.stopPeer(box)
    await peers.start(box)
    assert.equal((await box.mailbox?.status())?.holding[0]?.messages, 3, 'rebuilt from the datastore')

    await peers.stopPeer(bob1)
    // bob1 comes back with an inbox that takes two messages.
    const small = await peers.add({ identity: 'bafybob', key: bob1.key, messaging: { inboxCap: 2 }, started: false })
    peers.world.set('bafybob', { devices: [small.peerId], mailboxes: [box.peerId] })
    await peers.start(small, { connectTo: [box] })
    // Collected on connecting: two fit, the third waits at the mailbox.
    await waitFor(async () => (await small.messaging.inbox()).length === 2, { what: 'two in the inbox' })
    await waitFor(async () => (await box.mailbox?.status())?.holding[0]?.messages === 1, { what: 'one kept' })
    // The device records the collection once it ended, a moment after the mailbox's count moved.
    await waitFor(async () => (await small.mailbox?.status())?.mailboxes[0]?.last !== undefined, {
      what: 'the collection recorded',
    })
    assert.equal(small.mailbox && (await small.mailbox.status()).mailboxes[0]?.last?.remaining, 1)
    await small.messaging.deleteFromInbox()
    const [second] = (await small.mailbox?.collect()) ?? []
    assert.equal(second?.received, 1)
    assert.deepEqual(
      (await small.messaging.inbox()).map((m) => text(m.body)),
      ['three'],
    )
    assert.deepEqual((await box.mailbox?.status())?.holding, [])
  })

  it('a device connected to its mailbox is told of new mail and collects it at once', async () => {
    // Alice cannot reach bob1 (she gives a direct stream 1 ms), so she deposits.
    const { box, bob1, alice } = await scene({}, { messaging: { dmOpenTimeoutMs: 1 } })
    await peers.start(bob1, { connectTo: [box] })
    assert.equal((await alice.messaging.send(bob1.peerId, 'ping via the box')).status, 'deposited')
    const inbox = await waitFor(
      async () => ((await bob1.messaging.inbox()).length > 0 ? bob1.messaging.inbox() : false),
      {
        what: "bob1's inbox",
        timeoutMs: 5_000,
        intervalMs: 20,
      },
    )
    assert.deepEqual(
      inbox.map((m) => text(m.body)),
      ['ping via the box'],
    )
  })
})
