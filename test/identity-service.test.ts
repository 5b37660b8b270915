// The identity service between nodes in one process: link a device with the short strings,
// a wrong string aborts both, a removal reaches a third peer that then refuses the removed
// device's messages, and the data key rotates away from it (issue 11).
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import type { PairingView } from '../src/identity/views.ts'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork, type MemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'

/** The view of a pairing once it reaches `state` (its update events, or its state now). */
function reach(node: LateralNode, id: string, states: Array<PairingView['state']>): Promise<PairingView> {
  return new Promise((resolve) => {
    const check = (view: PairingView) => {
      if (view.id !== id || !states.includes(view.state)) return false
      node.identity.removeEventListener('pairing:update', listener)
      resolve(view)
      return true
    }
    const listener = (e: CustomEvent<PairingView>) => void check(e.detail)
    node.identity.addEventListener('pairing:update', listener)
    check(node.identity.pairing(id))
  })
}

/** Link `fresh` into `member`'s identity; each side types what it reads on the other's screen. */
async function link(member: LateralNode, fresh: LateralNode, tamper?: (s: string) => string) {
  const waiting = await fresh.identity.link({ name: 'phone' })
  assert.ok(waiting.code !== undefined)
  const adding = await member.identity.add(waiting.code)
  const [onFresh, onMember] = await Promise.all([
    reach(fresh, waiting.id, ['compare', 'aborted']),
    reach(member, adding.id, ['compare', 'aborted']),
  ])
  assert.equal(onFresh.shortString, onMember.shortString)
  const typed = tamper?.(onMember.shortString as string) ?? (onMember.shortString as string)
  await fresh.identity.confirm(waiting.id, typed).catch(() => {})
  await member.identity.confirm(adding.id, onFresh.shortString as string).catch(() => {})
  return Promise.all([
    reach(fresh, waiting.id, ['done', 'aborted', 'expired']),
    reach(member, adding.id, ['done', 'aborted', 'expired']),
  ])
}

describe('identity service', () => {
  let network: MemoryNetwork | undefined
  afterEach(async () => {
    await network?.stop()
    network = undefined
  })

  it('links a new device: both show one identity with two devices and the data key', async () => {
    network = await createMemoryNetwork(2)
    const [laptop, phone] = network.nodes as [LateralNode, LateralNode]
    await network.connect(1, 0)
    const own = phone.identity.view().id
    const [a, b] = await link(laptop, phone)
    assert.equal(a.state, 'done', a.error)
    assert.equal(b.state, 'done', b.error)
    const seenByLaptop = laptop.identity.view()
    const seenByPhone = phone.identity.view()
    assert.equal(seenByPhone.id, seenByLaptop.id)
    assert.notEqual(seenByPhone.id, own, 'the phone left its own one-device identity')
    assert.deepEqual(seenByLaptop.devices.map((d) => d.peerId).sort(), [laptop.peerId, phone.peerId].sort())
    assert.deepEqual(seenByPhone.heads, seenByLaptop.heads)
    assert.equal(phone.identity.devicesOf(seenByLaptop.id)?.length, 2)
  })

  it('a wrong string typed on one side aborts both and adds nothing', async () => {
    network = await createMemoryNetwork(2)
    const [laptop, phone] = network.nodes as [LateralNode, LateralNode]
    await network.connect(1, 0)
    const before = laptop.identity.view()
    const [a, b] = await link(laptop, phone, (s) => s.replace(/\d$/, (d) => String((Number(d) + 1) % 10)))
    assert.equal(a.state, 'aborted')
    assert.equal(b.state, 'aborted')
    assert.deepEqual(laptop.identity.view().devices, before.devices)
    assert.equal(laptop.identity.view().entries, before.entries)
    assert.notEqual(phone.identity.view().id, before.id)
  })

  it('a removal reaches a third peer, which then refuses the removed device; the data key rotates', async () => {
    network = await createMemoryNetwork(3, { identity: { announceIntervalMs: 500 } })
    const [laptop, phone, friend] = network.nodes as [LateralNode, LateralNode, LateralNode]
    await network.connectAll()
    const [a] = await link(laptop, phone)
    assert.equal(a.state, 'done', a.error)
    const id = laptop.identity.view().id
    // The friend learns the identity from the heads announcements.
    await waitFor(() => friend.identity.devicesOf(id)?.length === 2, {
      what: 'the friend to know both devices',
      timeoutMs: 20_000,
    })
    const epoch = laptop.identity.view().dataKeyEpoch
    const shared = phone.identity.dataKey()
    assert.deepEqual(shared, laptop.identity.dataKey(), 'the new device holds the identity data key')
    const bytes = (t: string) => new TextEncoder().encode(t)
    const before = laptop.identity.vault.seal(bytes('sealed before'), 'outbox')
    assert.deepEqual(phone.identity.vault.open(before, 'outbox'), bytes('sealed before'), 'any current device opens it')
    assert.throws(
      () => phone.identity.vault.open(before, 'backup'),
      /does not open/,
      'a box opens only for its purpose',
    )

    const removedAt = Date.now()
    await laptop.identity.remove('phone', { lost: true })
    assert.equal(laptop.identity.view().dataKeyEpoch, epoch + 1)
    await waitFor(() => friend.identity.revocation(phone.peerId) !== undefined, {
      what: 'the removal to reach the friend',
      timeoutMs: 60_000,
    })
    const reached = Date.now() - removedAt
    assert.ok(reached < 60_000, `reached in ${reached} ms`)
    // The removed device learns the new head too, and finds no copy of the new key for itself.
    const fresh = laptop.identity.dataKey()
    assert.equal(fresh.epoch, epoch + 1)
    assert.notDeepEqual(fresh.key, shared.key)
    await waitFor(() => phone.identity.view().removed.some((r) => r.peerId === phone.peerId), {
      what: 'the phone to see its removal',
      timeoutMs: 20_000,
    })
    assert.throws(() => phone.identity.dataKey(), /has no data key/)
    const after = laptop.identity.vault.seal(bytes('sealed after'), 'outbox')
    assert.throws(() => phone.identity.vault.open(after, 'outbox'), /no data key \(epoch \d+\).*cannot be opened here/)
    assert.deepEqual(laptop.identity.vault.open(before, 'outbox'), bytes('sealed before'), 'old epochs still open')
    process.stderr.write(`removal reached the third peer in ${reached} ms\n`)
    const sent = await phone.messaging.send(friend.peerId, 'still me?')
    assert.equal(sent.status, 'failed')
    assert.match(sent.error ?? '', /revoked: device .* was reported lost and removed from identity/)
  })

  it('a message to a person reaches each of their devices, and names them in the inbox', async () => {
    network = await createMemoryNetwork(3, { identity: { announceIntervalMs: 500 } })
    const [laptop, phone, friend] = network.nodes as [LateralNode, LateralNode, LateralNode]
    await network.connectAll()
    const [a] = await link(laptop, phone)
    assert.equal(a.state, 'done', a.error)
    const ada = laptop.identity.view().id
    await waitFor(() => friend.identity.devicesOf(ada)?.length === 2, {
      what: 'the friend to know both devices',
      timeoutMs: 20_000,
    })
    const friendId = friend.identity.view().id
    await waitFor(
      () =>
        laptop.identity.identityOf(friend.peerId) === friendId && phone.identity.identityOf(friend.peerId) === friendId,
      {
        what: "Ada's devices to know the friend's identity",
        timeoutMs: 20_000,
      },
    )
    const sent = await friend.messaging.sendToPerson(ada, 'hello Ada')
    assert.equal(sent.status, 'delivered')
    assert.deepEqual(sent.devices.map((d) => d.to).sort(), [laptop.peerId, phone.peerId].sort())
    for (const device of [laptop, phone]) {
      const inbox = await device.messaging.inbox()
      assert.equal(inbox.length, 1)
      assert.equal(new TextDecoder().decode(inbox[0]?.body), 'hello Ada')
      assert.equal(inbox[0]?.from, friend.peerId)
      assert.equal(inbox[0]?.identity, friendId, 'the sender shows as a person')
    }
  })
})
