// The delegation service between nodes in one process (issue 12): a grant reaches its holder and
// is judged there; invocations are verified once; a revocation takes the right away; a right is
// passed on only within what is held; a mailbox grant names the mailbox in the identity profile.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { GrantChange } from '../src/core/delegations.ts'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork, type MemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'

const HOUR = 3_600_000

describe('delegation service', () => {
  let network: MemoryNetwork
  let alice: LateralNode
  let bob: LateralNode
  let carol: LateralNode
  before(async () => {
    network = await createMemoryNetwork(3, { delegation: { sweepIntervalMs: 200, clockSkewS: 0 } })
    ;[alice, bob, carol] = network.nodes as [LateralNode, LateralNode, LateralNode]
    await network.connectAll()
  })
  after(async () => {
    await network.stop()
  })

  it('a grant reaches its holder, which holds it with its quota; the giver sees it delivered', async () => {
    const [given] = await alice.delegation.grant({
      to: bob.peerId,
      can: 'store/put',
      quota: 1000,
      until: Date.now() + HOUR,
    })
    assert.ok(given !== undefined)
    assert.equal(given.command, '/store/put')
    assert.equal(given.quota, 1000)
    assert.equal(given.subject, alice.identity.self())
    await waitFor(async () => (await alice.delegation.show(given.cid)).delivered === true, {
      what: 'delivery',
      timeoutMs: 20_000,
    })
    const held = await bob.delegation.held(alice.identity.self(), '/store/put')
    assert.equal(held?.cid, given.cid)
    assert.equal(held?.quota, 1000)
    assert.equal(held?.issuer, alice.peerId)
    const [received] = await bob.delegation.list('received')
    assert.equal(received?.state, 'active')
    assert.equal(await bob.delegation.held(alice.identity.self(), '/msg/deposit'), undefined, 'only what was granted')
    assert.equal(await carol.delegation.held(alice.identity.self(), '/store/put'), undefined, 'only by its holder')
  })

  it('an invocation by a device of the subject is verified once; a replay, another command or another executor is refused', async () => {
    const bytes = await alice.delegation.invoke(bob.peerId, '/store/put', { cid: 'bafy', size: 10 })
    const verified = await bob.delegation.verifyInvocation(bytes, '/store/put')
    assert.equal(verified.issuer, alice.peerId)
    assert.equal(verified.subject, alice.identity.self())
    assert.deepEqual(verified.args, { cid: 'bafy', size: 10 })
    await assert.rejects(bob.delegation.verifyInvocation(bytes, '/store/put'), {
      name: 'DelegationError',
      code: 'Replayed',
    })
    const other = await alice.delegation.invoke(bob.peerId, '/store/put', {})
    await assert.rejects(bob.delegation.verifyInvocation(other, '/msg/deposit'), {
      name: 'DelegationError',
      message: /asks for \/store\/put/,
    })
    const forCarol = await alice.delegation.invoke(carol.peerId, '/store/put', {})
    await assert.rejects(bob.delegation.verifyInvocation(forCarol, '/store/put'), { code: 'InvalidAudience' })
  })

  it('a right is passed on only within what is held: narrower quota and time; the chain reaches the next holder', async () => {
    const subject = alice.identity.self()
    const held = await bob.delegation.held(subject, '/store/put')
    assert.ok(held !== undefined)
    await assert.rejects(
      bob.delegation.grant({ to: carol.peerId, can: 'store/put', quota: 5000, until: Date.now() + HOUR / 2, subject }),
      /allows at most 1000 bytes/,
    )
    await assert.rejects(
      bob.delegation.grant({ to: carol.peerId, can: 'store', quota: 10, until: Date.now() + HOUR / 2, subject }),
      /holds no valid grant of \/store from/,
    )
    await assert.rejects(
      bob.delegation.grant({ to: carol.peerId, can: 'store/put', quota: 10, until: Date.now() + 2 * HOUR, subject }),
      /pass on no more/,
    )
    const [passed] = await bob.delegation.grant({
      to: carol.peerId,
      can: 'store/put',
      quota: 10,
      until: Date.now() + HOUR / 2,
      subject,
    })
    assert.equal(passed?.chain.length, 2)
    await waitFor(async () => (await carol.delegation.held(subject, '/store/put')) !== undefined, {
      what: 'the passed-on grant',
      timeoutMs: 20_000,
    })
    assert.equal((await carol.delegation.held(subject, '/store/put'))?.quota, 10)
  })

  it('a revocation reaches the holder and everyone it was passed on to; the right is gone and services hear of it', async () => {
    const subject = alice.identity.self()
    const held = await bob.delegation.held(subject, '/store/put')
    assert.ok(held !== undefined)
    const changes: GrantChange[] = []
    bob.delegation.addEventListener('grant:changed', (e) => changes.push(e.detail))
    const started = Date.now()
    const revoked = await alice.delegation.revoke(held.cid)
    assert.equal(revoked.state, 'revoked')
    await waitFor(async () => (await bob.delegation.held(subject, '/store/put')) === undefined, {
      what: 'revocation at bob',
      timeoutMs: 20_000,
    })
    await waitFor(async () => (await carol.delegation.held(subject, '/store/put')) === undefined, {
      what: 'revocation down the chain at carol',
      timeoutMs: 20_000,
    })
    process.stderr.write(`revocation enforced at the holder in ${Date.now() - started} ms\n`)
    await waitFor(() => changes.some((c) => c.cid === held.cid && c.state === 'revoked'), {
      what: 'grant:changed',
      timeoutMs: 20_000,
    })
    const lapsed = await bob.delegation.lapsed(subject, '/store/put')
    assert.ok(lapsed.some((l) => l.cid === held.cid && l.state === 'revoked' && /revoked by/.test(l.reason ?? '')))
    await assert.rejects(alice.delegation.revoke('bafynotmine'), { name: 'NotFoundError' })
  })

  it('a grant that is not valid yet is pending; one that expires lapses as expired', async () => {
    const subject = alice.identity.self()
    const [later] = await alice.delegation.grant({
      to: bob.peerId,
      can: 'store/put',
      notBefore: Date.now() + HOUR,
      until: Date.now() + 2 * HOUR,
    })
    await waitFor(async () => (await alice.delegation.show(later?.cid as string)).delivered === true, {
      what: 'delivery',
      timeoutMs: 20_000,
    })
    assert.equal((await bob.delegation.show(later?.cid as string)).state, 'pending')
    assert.equal(await bob.delegation.held(subject, '/store/put'), undefined)
    // Expiry, in whole seconds, with no clock skew allowed in this network.
    const expired: GrantChange[] = []
    const listener = (e: CustomEvent<GrantChange>) => void (e.detail.state === 'expired' && expired.push(e.detail))
    bob.delegation.addEventListener('grant:changed', listener)
    const [brief] = await alice.delegation.grant({ to: bob.peerId, can: 'msg/deposit', until: Date.now() + 1500 })
    await waitFor(async () => (await bob.delegation.held(subject, '/msg/deposit'))?.cid === brief?.cid, {
      what: 'held',
      timeoutMs: 20_000,
    })
    await waitFor(async () => (await bob.delegation.held(subject, '/msg/deposit')) === undefined, {
      what: 'expiry',
      timeoutMs: 20_000,
    })
    await waitFor(() => expired.some((c) => c.cid === brief?.cid), { what: 'grant:changed expired', timeoutMs: 20_000 })
    bob.delegation.removeEventListener('grant:changed', listener)
    assert.equal((await bob.delegation.show(brief?.cid as string)).state, 'expired')
    assert.ok((await bob.delegation.lapsed(subject, '/msg/deposit')).some((l) => l.cid === brief?.cid))
    // Its mailbox entry in the profile went with it.
    await waitFor(() => (alice.identity.mailboxesOf(subject) ?? []).length === 0, {
      what: 'the mailbox out of the profile',
      timeoutMs: 20_000,
    })
  })

  it('granting msg/deposit names the holder as a mailbox in the profile; revoking takes it out', async () => {
    const [mailbox] = await alice.delegation.grant({
      to: carol.peerId,
      can: 'msg/deposit',
      quota: 1 << 20,
      until: Date.now() + HOUR,
    })
    assert.deepEqual(alice.identity.mailboxesOf(alice.identity.self()), [carol.peerId])
    await waitFor(() => bob.identity.mailboxesOf(alice.identity.self())?.includes(carol.peerId) === true, {
      what: 'the profile at another peer',
      timeoutMs: 20_000,
    })
    await alice.delegation.revoke(mailbox?.cid as string)
    assert.deepEqual(alice.identity.mailboxesOf(alice.identity.self()), [])
  })

  it('refuses bad grants with clear errors', async () => {
    await assert.rejects(
      alice.delegation.grant({ to: bob.peerId, can: 'Store Put', until: Date.now() + HOUR }),
      /not a command/,
    )
    await assert.rejects(
      alice.delegation.grant({ to: bob.peerId, can: 'store/put', until: Date.now() - 1 }),
      /in the future/,
    )
    await assert.rejects(alice.delegation.grant({ to: 'nobody', can: 'store/put', until: Date.now() + HOUR }), {
      name: 'InvalidInputError',
    })
    await assert.rejects(
      alice.delegation.grant({ to: alice.peerId, can: 'store/put', until: Date.now() + HOUR }),
      /itself/,
    )
  })
})

describe('delegation fair shares', () => {
  it('one identity cannot fill a holder: past delegation.perSubjectMax its grants are refused, others still taken', async () => {
    const network = await createMemoryNetwork(3, { delegation: { perSubjectMax: 2 } })
    try {
      const [flooder, holder, honest] = network.nodes as [LateralNode, LateralNode, LateralNode]
      await network.connectAll()
      const until = Date.now() + HOUR
      const given = []
      for (let i = 0; i < 3; i++)
        given.push(...(await flooder.delegation.grant({ to: holder.peerId, can: 'store/put', until })))
      await waitFor(async () => (await holder.delegation.list('received')).length === 2, {
        what: 'two grants kept',
        timeoutMs: 20_000,
      })
      const delivered = await Promise.all(given.map(async (g) => (await flooder.delegation.show(g.cid)).delivered))
      assert.equal(delivered.filter(Boolean).length, 2, 'the third was refused by the holder')
      const [fair] = await honest.delegation.grant({ to: holder.peerId, can: 'store/put', until })
      await waitFor(
        async () => (await holder.delegation.held(honest.identity.self(), '/store/put'))?.cid === fair?.cid,
        {
          what: "another identity's grant",
          timeoutMs: 20_000,
        },
      )
    } finally {
      await network.stop()
    }
  })
})
