// Recovery through guardians between nodes in one process (issue 13): 3 of 5 guardians approve a
// fresh device, which becomes the identity's only device after the delay and opens data sealed
// before; a current device's veto stops another recovery.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import type { RecoverySessionView } from '../src/identity/recovery/recovery.ts'
import { decodeAnswer, encode, RECOVERY_PROTOCOL } from '../src/identity/recovery/wire.ts'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork, type MemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'

const DELAY = 2_000
const bytes = (t: string) => new TextEncoder().encode(t)

function settled(node: LateralNode, id: string, states: Array<RecoverySessionView['state']>) {
  return waitFor(
    () => {
      const s = node.identity.recoverySessions().find((x) => x.id === id)
      return s !== undefined && states.includes(s.state) ? s : undefined
    },
    { what: `recovery session ${id} to reach ${states.join('/')}`, timeoutMs: 30_000 },
  )
}

describe('recovery through guardians', () => {
  let network: MemoryNetwork
  let owner: LateralNode
  let guardians: LateralNode[]
  let fresh: LateralNode
  let third: LateralNode
  let identity: string
  before(async () => {
    // 0: the person's device; 1-5: guardians; 6: a fresh device; 7: a third peer.
    network = await createMemoryNetwork(8, { identity: { recoveryMinDelayMs: 1000 } })
    owner = network.nodes[0] as LateralNode
    guardians = network.nodes.slice(1, 6)
    fresh = network.nodes[6] as LateralNode
    third = network.nodes[7] as LateralNode
    await network.connectAll()
    identity = owner.identity.self()
    for (const [i, g] of guardians.entries()) await owner.identity.contacts.add(`g${i}`, g.identity.self())
    await third.identity.contacts.add('owner', identity)
    await waitFor(() => guardians.every((g) => owner.identity.devicesOf(g.identity.self()) !== undefined), {
      what: "the guardians' logs at the owner",
      timeoutMs: 30_000,
    })
  })
  after(async () => {
    await network.stop()
  })

  it('3 of 5 approve: after the delay the new device is the only device, opens data sealed before; others refuse the old one', async () => {
    const view = await owner.identity.setGuardians(['g0', 'g1', 'g2', 'g3', 'g4'], { threshold: 3, delayMs: DELAY })
    assert.equal(view.guardians.current?.threshold, 3)
    assert.equal(view.guardians.current?.guardians.length, 5)
    assert.ok((view.guardians.current?.epoch ?? 0) > 0, 'with a backup of the data key')
    await waitFor(() => guardians.every((g) => g.identity.devicesOf(identity) !== undefined), {
      what: 'every guardian to keep the log',
      timeoutMs: 30_000,
    })
    const sealedBefore = owner.identity.vault.seal(bytes('my notes'), 'outbox')

    const started = Date.now()
    const request = await fresh.identity.recoverStart(identity)
    assert.equal(request.state, 'waiting')
    assert.ok(request.code !== undefined)
    const recoveryStarted = new Promise((resolve) => owner.identity.addEventListener('recovery:started', resolve))
    for (const g of guardians.slice(0, 3)) {
      const asked = await g.identity.recoverApprove(request.code as string)
      assert.equal(asked.shortString, request.shortString, 'the guardian sees the string the person reads out')
      const done = await g.identity.recoverConfirm(asked.id, request.shortString)
      assert.equal(done.state, 'approved', done.error)
    }
    await recoveryStarted
    assert.equal(owner.identity.view().recovery?.state, 'pending', 'the current device is told at once')
    const completed = await settled(fresh, request.id, ['completed', 'failed', 'vetoed'])
    assert.equal(completed.state, 'completed', completed.error)
    process.stderr.write(`recovery: start to working device in ${Date.now() - started} ms (delay ${DELAY} ms)\n`)
    assert.equal(fresh.identity.self(), identity)
    assert.deepEqual(
      fresh.identity.view().devices.map((d) => d.peerId),
      [fresh.peerId],
    )
    assert.deepEqual(fresh.identity.vault.open(sealedBefore, 'outbox'), bytes('my notes'), 'opens data sealed before')
    await waitFor(() => third.identity.revocation(owner.peerId) !== undefined, {
      what: 'the third peer to refuse the old device',
      timeoutMs: 30_000,
    })
    // The new device keeps the same guardians, with a backup of its new data key.
    const after = fresh.identity.view()
    assert.equal(after.guardians.current?.guardians.length, 5)
    assert.equal(after.guardians.current?.epoch, after.dataKeyEpoch)
  })

  it('an appointment the appointing identity does not back is refused (nothing pinned for a stranger)', async () => {
    // The third peer is nobody's guardian: an appointment from it, for its own identity, is refused.
    const stranger = third
    const target = guardians[0] as LateralNode
    const stream = await stranger.net.openStream(target.peerId, RECOVERY_PROTOCOL)
    const heads = stranger.identity.ownHeads()
    await stream.write(encodeFrame(encode({ t: 'appoint', heads: heads as { id: string; heads: string[] } })))
    let answer: unknown
    for await (const frame of readFrames(stream, 8192)) {
      answer = decodeAnswer(frame.subarray())
      break
    }
    assert.deepEqual(answer, { t: 'refused', error: 'that identity does not name this device as a guardian' })
  })

  it('a guardian who types a different string approves nothing', async () => {
    const other = guardians[4] as LateralNode
    const request = await third.identity.recoverStart(identity)
    const asked = await other.identity.recoverApprove(request.code as string)
    const aborted = await other.identity.recoverConfirm(asked.id, '0000-0000-0000')
    assert.equal(aborted.state, 'aborted')
    assert.equal(third.identity.recoverySession(request.id).approvals.length, 0)
  })

  it('a current device vetoes within the delay: the recovery never takes effect', async () => {
    // The identity is now the recovered device's; a thief starts a recovery of it.
    const thief = third
    await assert.rejects(owner.identity.recoverStart(identity), /was a device of that identity/)
    const request = await thief.identity.recoverStart(identity)
    const vetoes = new Promise((resolve) => fresh.identity.addEventListener('recovery:started', resolve))
    for (const g of guardians.slice(2, 5)) {
      const asked = await g.identity.recoverApprove(request.code as string)
      await g.identity.recoverConfirm(asked.id, 'yes')
    }
    await vetoes
    const vetoed = await fresh.identity.veto()
    assert.equal(vetoed.recovery?.state, 'vetoed')
    const end = await settled(thief, request.id, ['completed', 'failed', 'vetoed'])
    // The thief's session ended at the due time without completing: the device stays the only one.
    assert.notEqual(end.state, 'completed')
    assert.deepEqual(
      fresh.identity.view().devices.map((d) => d.peerId),
      [fresh.peerId],
    )
  })
})
