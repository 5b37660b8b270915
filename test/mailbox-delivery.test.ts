// Mailboxes in one process (fake delegation authority, memory transport): a message for a person
// whose devices are all away is deposited, held sealed, and handed over when a device comes back.
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import type { MemoryDatastore } from 'datastore-core'
import type { MailboxInit } from '../src/mailbox/index.ts'
import { waitFor } from '../src/testing/wait.ts'
import { type MailboxPeers, mailboxPeers } from './helpers/mailbox-peers.ts'

const text = (b: Uint8Array) => new TextDecoder().decode(b)

/** Every key and value of a datastore that contains `needle` (as bytes). */
async function holding(datastore: MemoryDatastore, needle: string): Promise<string[]> {
  const bytes = Buffer.from(needle)
  const found: string[] = []
  for await (const { key, value } of datastore.query({})) {
    if (key.toString().includes(needle) || Buffer.from(value).includes(bytes)) found.push(key.toString())
  }
  return found
}

describe('mailbox: delivery through a mailbox', () => {
  let peers: MailboxPeers
  beforeEach(() => {
    peers = mailboxPeers()
  })
  afterEach(async () => {
    await peers.stop()
  })

  /** Bob (two devices, both away), his mailbox (granted), Alice (a sender who knows the mailbox). */
  async function scene(options: { quota?: number; box?: MailboxInit } = {}) {
    const box = await peers.add({ identity: 'bafycarol', mailbox: options.box ?? {} })
    const bob1 = await peers.add({ identity: 'bafybob' })
    const bob2 = await peers.add({ identity: 'bafybob', started: false })
    peers.world.set('bafybob', { devices: [bob1.peerId, bob2.peerId], mailboxes: [box.peerId] })
    peers.world.set('bafycarol', { devices: [box.peerId] })
    box.authority.grant('bafybob', options.quota === undefined ? {} : { quota: options.quota })
    // Bob's first device met its mailbox before going away: its peer store remembers the address.
    await peers.connect(bob1, box)
    await peers.stopPeer(bob1)
    const alice = await peers.add({ identity: 'bafyalice' })
    peers.world.set('bafyalice', { devices: [alice.peerId] })
    await peers.connect(alice, box)
    return { box, bob1, bob2, alice }
  }

  it("a mailbox the sender does not know yet is found by refreshing the recipient's log, and takes the message", async () => {
    const { box, bob1, alice } = await scene()
    // Alice's copy of Bob's log predates the box: it names no mailbox.
    peers.world.set('bafybob', { devices: [bob1.peerId], mailboxes: [] })
    peers.world.later('bafybob', { mailboxes: [box.peerId] })
    const sent = await alice.messaging.sendToPerson('bafybob', 'found you')
    assert.equal(sent.status, 'deposited', JSON.stringify(sent))
    assert.equal(sent.devices[0]?.mailbox, box.peerId)
    assert.deepEqual(peers.world.refreshed, ['bafybob'])
  })

  it('when no peer knows a newer log the message waits in the outbox, saying no mailbox is named', async () => {
    const { bob1, alice } = await scene()
    peers.world.set('bafybob', { devices: [bob1.peerId], mailboxes: [] })
    const sent = await alice.messaging.sendToPerson('bafybob', 'anyone?')
    assert.equal(sent.status, 'queued', JSON.stringify(sent))
    assert.match(sent.devices[0]?.error ?? '', /names no mailbox/)
    assert.deepEqual(peers.world.refreshed, ['bafybob'])
  })

  it('a message to a person whose every device is away reaches the device that comes back, the sender gone by then; the mailbox held it sealed', async () => {
    const { box, bob1, bob2, alice } = await scene()
    const marker = `meet at the old mill ${Math.random().toString(36).slice(2)}`
    const deposited: string[] = []
    box.mailbox?.addEventListener('mailbox:deposited', (e) => deposited.push(e.detail.device))
    const sent = await alice.messaging.sendToPerson('bafybob', marker)
    assert.equal(sent.status, 'deposited', JSON.stringify(sent))
    assert.deepEqual(
      sent.devices.map((d) => [d.to, d.status, d.mailbox]),
      [
        [bob1.peerId, 'deposited', box.peerId],
        [bob2.peerId, 'deposited', box.peerId],
      ],
    )
    assert.deepEqual(deposited.sort(), [bob1.peerId, bob2.peerId].sort())
    assert.deepEqual(await alice.messaging.outbox(), [], 'deposited messages leave the outbox')
    await peers.stopPeer(alice)

    // The mailbox holds two envelopes (its datastore names the devices they are for) and no plaintext.
    const status = await box.mailbox?.status()
    assert.equal(status?.holding[0]?.identity, 'bafybob')
    assert.equal(status?.holding[0]?.messages, 2)
    assert.ok((await holding(box.datastore, bob1.peerId)).length >= 2, 'the scan sees where envelopes are kept')
    assert.deepEqual(await holding(box.datastore, marker), [], 'no plaintext in the mailbox datastore')

    let connectedAt = 0
    let handedOverAt = 0
    box.net.addEventListener('peer:connect', (e) => {
      if (e.detail.peerId === bob1.peerId && connectedAt === 0) connectedAt = performance.now()
    })
    box.mailbox?.addEventListener('mailbox:handed-over', () => {
      handedOverAt ||= performance.now()
    })
    const started = performance.now()
    await peers.start(bob1)
    const inbox = await waitFor(
      async () => {
        const messages = await bob1.messaging.inbox()
        return messages.length > 0 ? messages : undefined
      },
      { what: "bob1's inbox", timeoutMs: 10_000, intervalMs: 10 },
    )
    const handOverMs = performance.now() - started
    assert.deepEqual(
      inbox.map((m) => [m.from, text(m.body)]),
      [[alice.peerId, marker]],
    )
    // Deleted once acknowledged; bob2's copy waits for bob2.
    await waitFor(async () => (await box.mailbox?.status())?.holding[0]?.messages === 1, { what: 'deletion' })
    assert.deepEqual((await box.mailbox?.status())?.holding[0]?.devices, [{ device: bob2.peerId, messages: 1 }])
    assert.deepEqual(await holding(box.datastore, marker), [])
    await waitFor(() => handedOverAt > 0, { what: 'the hand-over event' })
    process.stdout.write(
      `# hand-over after the device came back (in process): ${handOverMs.toFixed(1)} ms from starting it to the message in its inbox; ${(handedOverAt - connectedAt).toFixed(1)} ms from its connection to the mailbox to the acknowledged hand-over\n`,
    )
  })

  it('a peer without a delegation cannot be deposited with: the message stays in the outbox', async () => {
    const { box, bob1, alice } = await scene()
    box.authority.revoke('bafybob')
    const refused: Array<{ code: string; error: string; sender: string }> = []
    box.mailbox?.addEventListener('mailbox:refused', (e) => refused.push(e.detail))
    const sent = await alice.messaging.send(bob1.peerId, 'hello?')
    assert.equal(sent.status, 'queued')
    assert.deepEqual(
      refused.map((r) => [r.code, r.error, r.sender]),
      [['no-delegation', 'this peer holds no mailbox delegation for identity bafybob', alice.peerId]],
    )
    assert.equal((await alice.messaging.outbox()).length, 1)
    assert.deepEqual((await box.mailbox?.status())?.holding, [])
  })

  it('over-quota deposits are refused; what was taken stays within the quota', async () => {
    // One sender may fill all of it here: the quota is what is tested (the share has its own test).
    const { box, bob1, alice } = await scene({ quota: 1_500, box: { senderSharePercent: 100 } })
    const refused: string[] = []
    box.mailbox?.addEventListener('mailbox:refused', (e) => refused.push(e.detail.code))
    const statuses: string[] = []
    for (let i = 0; i < 6; i++) statuses.push((await alice.messaging.send(bob1.peerId, `message ${i}`)).status)
    const taken = statuses.filter((s) => s === 'deposited').length
    assert.ok(taken >= 1 && taken < 6, `some deposited, then refused: ${statuses}`)
    assert.deepEqual(statuses.slice(taken), Array(6 - taken).fill('queued'), 'refused ones wait in the outbox')
    assert.deepEqual([...new Set(refused)], ['quota'])
    const held = (await box.mailbox?.status())?.holding[0]
    assert.equal(held?.messages, taken)
    assert.ok((held?.bytes ?? 0) <= 1_500, `held ${held?.bytes} bytes`)
    assert.equal(held?.quota, 1_500)
  })
})
