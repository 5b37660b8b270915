// Devices removed from their identity: their topic messages and direct messages are refused with
// the reason, and nothing is sent to them any more (issue 11).
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { x25519Keygen, x25519Shared } from '../src/core/crypto.ts'
import type { IdentityDirectory, IdentityHeads, Revocation } from '../src/core/identities.ts'
import { deviceVault } from '../src/core/vault.ts'
import { waitFor } from '../src/testing/wait.ts'
import { type MessagingPeers, messagingPeers } from './helpers/messaging-peers.ts'

const IDENTITY = 'bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
const HEAD = 'bafyreigyftnzjf4rcu7glp5kfop53vqlopc3zcldauoqdxqlz7t4343gr4'

/** A directory the test edits: which devices are revoked, and which identity they belong to. */
function directory(): IdentityDirectory & {
  revoke(peerId: string, r: Revocation): void
  devices: string[]
  own: IdentityHeads | undefined
  observed: Array<{ from: string; heads: IdentityHeads; via: string }>
} {
  const revoked = new Map<string, Revocation>()
  const vaultKey = x25519Keygen()
  const d = {
    devices: [] as string[],
    self: () => IDENTITY,
    identityOf: (peerId: string) => (d.devices.includes(peerId) || revoked.has(peerId) ? IDENTITY : undefined),
    devicesOf: (id: string) => (id === IDENTITY ? d.devices : undefined),
    mailboxesOf: () => undefined,
    refresh: async () => false,
    revocation: (peerId: string) => revoked.get(peerId),
    own: undefined as IdentityHeads | undefined,
    observed: [] as Array<{ from: string; heads: IdentityHeads; via: string }>,
    ownHeads: () => d.own,
    observeHeads: (from: string, heads: IdentityHeads, via: string) => d.observed.push({ from, heads, via }),
    vault: deviceVault({ x25519PublicKey: vaultKey.publicKey, agree: (pub) => x25519Shared(vaultKey.secret, pub) }),
    revoke: (peerId: string, r: Revocation) => {
      revoked.set(peerId, r)
      d.devices = d.devices.filter((p) => p !== peerId)
    },
  }
  return d
}

describe('messages of removed devices', () => {
  let peers: MessagingPeers
  beforeEach(() => {
    peers = messagingPeers()
  })
  afterEach(async () => {
    await peers.stop()
  })

  it('a third peer refuses the direct messages of a removed device, naming the reason', async () => {
    const dir = directory()
    const removed = await peers.add()
    const third = await peers.add({ identities: dir })
    await peers.connect(removed, third)
    dir.devices = [removed.signer.peerId]

    const before = await removed.messaging?.send(third.signer.peerId, 'before the removal')
    assert.equal(before?.status, 'delivered')
    const inbox = await third.messaging?.inbox()
    assert.equal(inbox?.[0]?.identity, IDENTITY, 'the inbox names the sender identity')

    dir.revoke(removed.signer.peerId, { identity: IDENTITY, at: Date.UTC(2026, 10, 29), reason: 'lost' })
    const after = await removed.messaging?.send(third.signer.peerId, 'after the removal')
    assert.equal(after?.status, 'failed')
    assert.match(after?.error ?? '', /^revoked: device .* was reported lost and removed from identity bafy/)
    assert.equal((await third.messaging?.inbox())?.length, 1, 'nothing more stored')
    assert.ok(third.logs.some((l) => l.message === 'refused a direct message from a removed device'))
  })

  it("each direct message carries the sender's identity heads, which the recipient observes", async () => {
    const senderDir = directory()
    const recipientDir = directory()
    const sender = await peers.add({ identities: senderDir })
    const recipient = await peers.add({ identities: recipientDir })
    await peers.connect(sender, recipient)
    const heads = { id: IDENTITY, heads: [HEAD] }
    senderDir.own = heads
    assert.equal((await sender.messaging?.send(recipient.signer.peerId, 'hello'))?.status, 'delivered')
    assert.deepEqual(recipientDir.observed, [{ from: sender.signer.peerId, heads, via: sender.signer.peerId }])
    const [entry] = (await recipient.messaging?.inbox()) ?? []
    assert.ok(entry !== undefined && !('heads' in entry), 'heads are a hint, not part of the stored message')
    senderDir.own = undefined
    assert.equal((await sender.messaging?.send(recipient.signer.peerId, 'no identity'))?.status, 'delivered')
    assert.equal(recipientDir.observed.length, 1, 'a message without heads observes nothing')
  })

  it("a third peer ignores a removed device's topic messages, and does not penalise who relayed them", async () => {
    const dir = directory()
    const removed = await peers.add()
    const third = await peers.add({ identities: dir })
    await peers.connect(removed, third)
    removed.messaging?.join('news')
    const received: string[] = []
    third.messaging?.addEventListener('topic:message', (e) => received.push(new TextDecoder().decode(e.detail.body)))
    third.messaging?.join('news')
    await waitFor(() => (removed.messaging?.topicPeers('news').length ?? 0) > 0, {
      what: 'the mesh',
      timeoutMs: 10_000,
    })
    await removed.messaging?.publish('news', 'one')
    await waitFor(() => received.includes('one'), { what: 'the first message', timeoutMs: 10_000 })

    dir.revoke(removed.signer.peerId, { identity: IDENTITY, at: Date.now(), reason: 'removed' })
    await removed.messaging?.publish('news', 'two')
    await waitFor(() => third.logs.some((l) => l.message === 'refused a topic message from a removed device'), {
      what: 'the refusal',
      timeoutMs: 10_000,
    })
    const refusal = third.logs.find((l) => l.message === 'refused a topic message from a removed device')
    assert.match(String(refusal?.fields?.reason), /was removed from identity bafy/)
    assert.deepEqual(received, ['one'])
    assert.equal(third.net.penalty(removed.signer.peerId), 0)
  })

  it('sends nothing to a removed device: refused at once, and what was queued for it fails', async () => {
    const dir = directory()
    const sender = await peers.add({ identities: dir, messaging: { retryMinMs: 100, retryMaxMs: 200 } })
    const away = await peers.add({ messaging: false })
    const awayId = away.signer.peerId
    await peers.connect(sender, away)
    await away.net.stop() // offline: the message waits in the outbox and is retried
    dir.devices = [awayId]
    const queued = await sender.messaging?.send(awayId, 'for later')
    assert.equal(queued?.status, 'queued')
    const failed = new Promise<string>((resolve) =>
      sender.messaging?.addEventListener('dm:failed', (e) => resolve(e.detail.error)),
    )

    dir.revoke(awayId, { identity: IDENTITY, at: Date.now(), reason: 'removed' })
    await assert.rejects(sender.messaging?.send(awayId, 'now') ?? Promise.reject(), /not sent: device .* was removed/)
    // The next retry fails what was queued instead of delivering it.
    assert.match(await failed, /^recipient removed: device .* was removed from identity bafy/)
    const outbox = await sender.messaging?.outbox()
    assert.deepEqual(
      outbox?.map((m) => m.failed),
      [true],
    )
  })
})
