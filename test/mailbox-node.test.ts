// Mailboxes on whole nodes in one process (memory transport), with the real identity and
// delegation services: Bob grants his always-on box `msg/deposit`; Alice's message to Bob, sent
// while Bob's only device is away, waits at the box and reaches Bob's device when it comes back,
// Alice being gone by then. Revoking the grant takes the box's right (and what it held) away.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import { MemoryDatastore } from 'datastore-core'
import { MAILBOX_PROTOCOL } from '../src/core/constants.ts'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import { type DeviceKey, generateDeviceKey } from '../src/identity/keystore.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'
import { installTeardownGuard } from '../src/testing/teardown-guard.ts'
import { waitFor } from '../src/testing/wait.ts'

const HOUR = 3_600_000
const text = (b: Uint8Array) => new TextDecoder().decode(b)

describe('mailbox on whole nodes, with the delegation service', () => {
  const prefix = randomBytes(4).toString('hex')
  const nodes = new Set<LateralNode>()
  const bobKey = generateDeviceKey()
  const bobStore = new MemoryDatastore()
  const boxStore = new MemoryDatastore()
  const listen = (name: string) => [`/memory/${prefix}-${name}`]
  const start = async (name: string, key: DeviceKey, datastore = new MemoryDatastore()) => {
    const node = await createNode({
      key,
      datastore,
      transport: 'memory',
      config: {
        listen: listen(name),
        mdns: false,
        bootstrap: [],
        metrics: false,
        messaging: { dmOpenTimeoutMs: 2_000, retryMinMs: 60_000, retryMaxMs: 60_000 },
        delegation: { sweepIntervalMs: 200 },
      },
    })
    nodes.add(node)
    return node
  }
  const stop = async (node: LateralNode) => {
    nodes.delete(node)
    await node.stop()
  }
  let box: LateralNode
  let bob: LateralNode
  let alice: LateralNode
  let bobId: string

  before(async () => {
    installTeardownGuard()
    box = await start('box', generateDeviceKey(), boxStore)
    bob = await start('bob', bobKey, bobStore)
    alice = await start('alice', generateDeviceKey())
    bobId = bob.identity.self()
    await bob.net.connect(box.net.addresses()[0] as string)
    await alice.net.connect(box.net.addresses()[0] as string)
    await alice.net.connect(bob.net.addresses()[0] as string)
  })
  after(async () => {
    await Promise.all([...nodes].map((n) => n.stop()))
  })

  it("a grant of msg/deposit makes the box one of Bob's mailboxes; Alice learns it from Bob's profile", async () => {
    await bob.delegation.grant({ to: box.peerId, can: 'msg/deposit', until: Date.now() + HOUR })
    await waitFor(async () => (await box.delegation.held(bobId, '/msg/deposit')) !== undefined, {
      what: 'the grant at the box',
    })
    assert.deepEqual(bob.identity.mailboxesOf(bobId), [box.peerId])
    await alice.identity.contacts.add('bob', bobId)
    await waitFor(() => alice.identity.mailboxesOf(bobId)?.includes(box.peerId), {
      what: "Bob's profile at Alice",
      timeoutMs: 20_000,
    })
  })

  it('a message to Bob while his device is away reaches it when it comes back, Alice gone by then; the box never held the text', async () => {
    await stop(bob)
    const marker = `the key is under the mat ${randomBytes(6).toString('hex')}`
    const sent = await alice.messaging.sendToPerson(bobId, marker)
    assert.equal(sent.status, 'deposited', JSON.stringify(sent))
    assert.equal(sent.devices[0]?.mailbox, box.peerId)
    const held = await box.mailbox.status()
    assert.deepEqual(
      held.holding.map((h) => [h.identity, h.messages, h.grant]),
      [[bobId, 1, 'active']],
    )
    // The box's datastore holds the envelope (under Bob's device) and nowhere the text.
    const needle = Buffer.from(marker)
    let envelopes = 0
    for await (const { key, value } of boxStore.query({})) {
      if (key.toString().startsWith(`/lateral/mailbox/mail/${bobId}/`)) envelopes++
      assert.ok(!Buffer.from(value).includes(needle), key.toString())
    }
    assert.equal(envelopes, 1)
    await stop(alice)

    const started = performance.now()
    bob = await start('bob', bobKey, bobStore)
    const inbox = await waitFor(
      async () => {
        const messages = await bob.messaging.inbox()
        return messages.length > 0 ? messages : undefined
      },
      { what: "Bob's inbox", timeoutMs: 20_000, intervalMs: 10 },
    )
    const ms = performance.now() - started
    assert.deepEqual(
      inbox.map((m) => [m.from, text(m.body)]),
      [[alice.peerId, marker]],
    )
    await waitFor(async () => (await box.mailbox.status()).holding.length === 0, { what: 'deleted at the box' })
    process.stdout.write(`# hand-over after the device came back (whole nodes, in process): ${ms.toFixed(0)} ms\n`)
  })

  it('senders who never met Bob get his log from a connected peer (the box keeps it): a contact added, a message sent', async () => {
    // The box keeps Bob's log (it checks deposits against his devices), profile included.
    await waitFor(() => box.identity.mailboxesOf(bobId)?.includes(box.peerId), { what: "Bob's profile at the box" })
    await stop(bob)
    // Dana names Bob: his log comes from the box at once, not at an announcement of his.
    const dana = await start('dana', generateDeviceKey())
    await dana.net.connect(box.net.addresses()[0] as string)
    assert.equal(dana.identity.devicesOf(bobId), undefined, 'Dana has never seen Bob or his log')
    await dana.identity.contacts.add('bob', bobId)
    await waitFor(() => dana.identity.devicesOf(bobId) !== undefined, { what: "Bob's log at Dana", timeoutMs: 5_000 })
    const [view] = await dana.identity.contactViews()
    assert.deepEqual(view?.profile?.devices, [bob.peerId])
    assert.deepEqual(view?.profile?.mailboxes, [box.peerId])
    // Eve writes to Bob's identity without naming him: the send fetches the log, then deposits.
    const eve = await start('eve', generateDeviceKey())
    await eve.net.connect(box.net.addresses()[0] as string)
    const marker = `eve was here ${randomBytes(6).toString('hex')}`
    const sent = await eve.messaging.sendToPerson(bobId, marker)
    assert.equal(sent.status, 'deposited', JSON.stringify(sent))
    assert.equal(sent.devices[0]?.mailbox, box.peerId)
    assert.deepEqual(eve.identity.mailboxesOf(bobId), [box.peerId])
    // An identity no connected peer keeps is still refused, with what was tried.
    const stranger = await start('stranger', generateDeviceKey())
    const strangerId = stranger.identity.self()
    await stop(stranger)
    await assert.rejects(eve.messaging.sendToPerson(strangerId, 'hello?'), /no connected peer had its log/)
    await stop(dana)
    await stop(eve)

    bob = await start('bob', bobKey, bobStore)
    await waitFor(async () => (await bob.messaging.inbox()).some((m) => text(m.body) === marker), {
      what: "Eve's message in Bob's inbox",
      timeoutMs: 20_000,
    })
    await waitFor(async () => (await box.mailbox.status()).holding.length === 0, { what: 'deleted at the box' })
  })

  it('after Bob revokes the grant his profile no longer names the box, and the box takes no deposit for him', async () => {
    const [grant] = await bob.delegation.list('given')
    assert.ok(grant !== undefined)
    await bob.delegation.revoke(grant.cid)
    await waitFor(async () => (await box.delegation.held(bobId, '/msg/deposit')) === undefined, {
      what: 'the revocation at the box',
      timeoutMs: 20_000,
    })
    assert.deepEqual(bob.identity.mailboxesOf(bobId), [])
    // A sender that still names the box (an old profile) is refused before any envelope is sent.
    const carol = await start('carol', generateDeviceKey())
    await carol.net.connect(box.net.addresses()[0] as string)
    const stream = await carol.net.openStream(box.peerId, MAILBOX_PROTOCOL)
    await stream.write(encodeFrame(cbor.encode({ op: 'deposit', identity: bobId, device: bob.peerId })))
    const answers: unknown[] = []
    for await (const frame of readFrames(stream, 4096)) answers.push(cbor.decode(frame))
    assert.deepEqual(answers, [
      { ok: false, code: 'no-delegation', error: `this peer holds no mailbox delegation for identity ${bobId}` },
    ])
    assert.deepEqual((await box.mailbox.status()).holding, [])
  })
})
