// How long a mailbox keeps mail (fake delegation authority): a message past its time, every
// message of a revoked grant at once, of an expired grant after the grace, of a removed device.
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import type { MailboxInit } from '../src/mailbox/index.ts'
import { waitFor } from '../src/testing/wait.ts'
import { type MailboxPeers, mailboxPeers } from './helpers/mailbox-peers.ts'

type Dropped = { identity: string; messages: number; reason: string; at: number }

describe('mailbox: retention', () => {
  let peers: MailboxPeers
  beforeEach(() => {
    peers = mailboxPeers()
  })
  afterEach(async () => {
    await peers.stop()
  })

  /** A mailbox holding one message for each of bob's two (away) devices. */
  async function held(init: MailboxInit) {
    const box = await peers.add({ identity: 'bafycarol', mailbox: init })
    const bob1 = await peers.add({ identity: 'bafybob', started: false })
    const bob2 = await peers.add({ identity: 'bafybob', started: false })
    peers.world.set('bafybob', { devices: [bob1.peerId, bob2.peerId], mailboxes: [box.peerId] })
    box.authority.grant('bafybob')
    const alice = await peers.add({ identity: 'bafyalice' })
    await peers.connect(alice, box)
    assert.equal((await alice.messaging.sendToPerson('bafybob', 'hold this')).status, 'deposited')
    const dropped: Dropped[] = []
    box.mailbox?.addEventListener('mailbox:dropped', (e) => dropped.push({ ...e.detail, at: performance.now() }))
    const mailKeys = async () => {
      let n = 0
      for await (const _ of box.datastore.queryKeys({ prefix: '/lateral/mailbox/' })) n++
      return n
    }
    return { box, bob1, bob2, dropped, mailKeys }
  }

  it('a message no device collects is dropped after messageTtlMs', async () => {
    const { box, dropped, mailKeys } = await held({ messageTtlMs: 300, sweepIntervalMs: 50 })
    assert.equal((await box.mailbox?.status())?.holding[0]?.messages, 2)
    // The two copies (one per device) may be stored a sweep apart on a loaded machine, so they
    // may expire in one sweep or two (a clean-clone run saw 1 then 1).
    await waitFor(() => dropped.reduce((n, d) => n + d.messages, 0) >= 2, { what: 'expiry', timeoutMs: 5_000 })
    assert.equal(
      dropped.reduce((n, d) => n + d.messages, 0),
      2,
    )
    assert.ok(dropped.every((d) => d.identity === 'bafybob' && d.reason === 'expired'))
    assert.deepEqual((await box.mailbox?.status())?.holding, [])
    assert.equal(await mailKeys(), 0, 'nothing of it left in the datastore')
  })

  it('a revoked grant drops the identity’s mail at once', async () => {
    const { box, dropped, mailKeys } = await held({})
    const revokedAt = performance.now()
    box.authority.revoke('bafybob')
    await waitFor(() => dropped.length > 0, { what: 'the drop', timeoutMs: 5_000, intervalMs: 5 })
    assert.deepEqual(
      dropped.map((d) => [d.messages, d.reason]),
      [[2, 'revoked']],
    )
    assert.ok((dropped[0]?.at ?? 0) - revokedAt < 1_000, 'on the revocation event, not at the next sweep (a minute)')
    assert.equal(await mailKeys(), 0)
  })

  it('an expired grant keeps the mail for the grace period (for a late renewal), then drops it', async () => {
    const { box, dropped } = await held({ lapseGraceMs: 600, sweepIntervalMs: 50 })
    const expiredAt = performance.now()
    box.authority.expire('bafybob')
    const status = await waitFor(async () => {
      const s = await box.mailbox?.status()
      return s?.holding[0]?.grant === 'lapsed' ? s : undefined
    })
    assert.equal(status.holding[0]?.messages, 2, 'still held while the grace runs')
    assert.ok((status.holding[0]?.until ?? 0) > Date.now(), 'the status says when it goes')
    await waitFor(() => dropped.length > 0, { what: 'the drop', timeoutMs: 5_000 })
    assert.equal(dropped[0]?.reason, 'lapsed')
    assert.ok((dropped[0]?.at ?? 0) - expiredAt >= 550, `dropped ${(dropped[0]?.at ?? 0) - expiredAt} ms after expiry`)
  })

  it('mail for a device removed from its identity is dropped; the other device keeps its own', async () => {
    const { box, bob1, bob2, dropped } = await held({ sweepIntervalMs: 50 })
    peers.world.set('bafybob', { devices: [bob1.peerId], mailboxes: [box.peerId] })
    await waitFor(() => dropped.length > 0, { what: 'the drop', timeoutMs: 5_000 })
    assert.deepEqual(
      dropped.map((d) => [d.messages, d.reason]),
      [[1, 'removed-device']],
    )
    assert.deepEqual((await box.mailbox?.status())?.holding[0]?.devices, [{ device: bob1.peerId, messages: 1 }])
    assert.notEqual(bob2.peerId, bob1.peerId)
  })
})
