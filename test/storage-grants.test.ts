/**
 * Kept copies follow their grants (in process, fake delegation authority): dropped at once on
 * revocation (and the blocks collected), after the grace period on expiry, not at all when a
 * renewal comes within the grace; trimmed to a smaller quota; what lapsed while the service was
 * stopped is judged at start.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import type { DropReason, KeptCopy } from '../src/storage/index.ts'
import { waitFor } from '../src/testing/wait.ts'
import { type StoragePeer, type StoragePeers, storagePeers } from './helpers/storage-peers.ts'

const CHUNK = 64 * 1024
const GRACE_MS = 600

describe('kept copies follow their grants (in process)', { timeout: 60_000 }, () => {
  let peers: StoragePeers
  let owner: StoragePeer
  let keeper: StoragePeer
  const dropped: Array<KeptCopy & { reason: DropReason }> = []

  before(async () => {
    peers = storagePeers()
    owner = await peers.add({ storage: { checkMeanMs: 0 } })
    keeper = await peers.add({ storage: { expiryGraceMs: GRACE_MS, sweepIntervalMs: 50 } })
    keeper.storage.addEventListener('storage:dropped', (e) => dropped.push(e.detail))
    await peers.connect(owner, keeper)
  })
  after(() => peers.stop())

  async function put(size: number): Promise<string> {
    const bytes = randomBytes(size)
    const { cid } = await owner.content.add([{ path: 'f', content: [bytes], size }], { chunker: `size-${CHUNK}` })
    const [outcome] = await owner.storage.put(cid, keeper.net.peerId)
    assert.equal(outcome?.status, 'kept', outcome?.error)
    return cid
  }

  const droppedFor = (cid: string) => dropped.find((d) => d.cid === cid)

  it('drops at once when the grant is revoked, and its blocks are collected', async () => {
    const grant = keeper.authority.give(owner.identity, { quota: 1 << 20 })
    const cid = await put(4 * CHUNK)
    keeper.authority.revoke(grant)
    const drop = await waitFor(() => droppedFor(cid), { what: 'the drop', timeoutMs: 5_000 })
    assert.equal(drop.reason, 'revoked')
    assert.ok(!(await keeper.content.pins()).some((p) => p.cid === cid))
    await waitFor(async () => !(await keeper.blocks.has(CID.parse(cid))), { what: 'blocks collected' })
  })

  it("keeps an expired grant's copies for the grace period, then drops them", async () => {
    const grant = keeper.authority.give(owner.identity, { quota: 1 << 20 })
    const cid = await put(2 * CHUNK)
    const expiredAt = Date.now()
    keeper.authority.expire(grant, expiredAt)
    await keeper.storage.sweep()
    assert.equal(droppedFor(cid), undefined, 'kept within the grace')
    const [usage] = await keeper.storage.keptFor()
    assert.equal(usage?.state, 'lapsed')
    // The grace runs from the expiry, or from when the keeper first saw the grant lapsed.
    assert.ok((usage?.dropAt ?? 0) >= expiredAt + GRACE_MS && (usage?.dropAt ?? 0) <= Date.now() + GRACE_MS)
    const drop = await waitFor(() => droppedFor(cid), { what: 'the drop after the grace', timeoutMs: 5_000 })
    assert.equal(drop.reason, 'expired')
    assert.ok(Date.now() >= expiredAt + GRACE_MS)
  })

  it('loses nothing when a renewal arrives within the grace', async () => {
    const first = keeper.authority.give(owner.identity, { quota: 1 << 20 })
    const cid = await put(2 * CHUNK)
    keeper.authority.expire(first)
    const renewal = keeper.authority.give(owner.identity, { quota: 1 << 20, expiresAt: Date.now() + 3_600_000 })
    await keeper.storage.sweep()
    const copy = keeper.storage.kept().find((c) => c.cid === cid)
    assert.equal(copy?.grant, renewal)
    // Past the first grant's grace: still kept.
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS + 100))
    await keeper.storage.sweep()
    assert.equal(droppedFor(cid), undefined)
    keeper.authority.revoke(renewal)
    await waitFor(() => droppedFor(cid), { what: 'dropped on revocation' })
  })

  it('trims to a smaller quota, newest first, when a smaller grant takes over', async () => {
    const big = keeper.authority.give(owner.identity, { quota: 1 << 20 })
    const older = await put(3 * CHUNK)
    const newer = await put(3 * CHUNK)
    const small = keeper.authority.give(owner.identity, { quota: 4 * CHUNK })
    keeper.authority.revoke(big)
    const drop = await waitFor(() => droppedFor(newer), { what: 'the newer copy trimmed' })
    assert.equal(drop.reason, 'over-quota')
    assert.ok(keeper.storage.kept().some((c) => c.cid === older))
    keeper.authority.revoke(small)
    await waitFor(() => droppedFor(older), { what: 'the older copy dropped' })
  })

  it('judges at start what lapsed while the service was stopped', async () => {
    const grant = keeper.authority.give(owner.identity, { quota: 1 << 20 })
    const cid = await put(2 * CHUNK)
    await keeper.storage.stop()
    keeper.authority.revoke(grant) // no one listens now
    await keeper.restart({ expiryGraceMs: GRACE_MS, sweepIntervalMs: 60_000 })
    assert.equal(
      keeper.storage.kept().find((c) => c.cid === cid),
      undefined,
    )
    assert.ok(!(await keeper.content.pins()).some((p) => p.cid === cid))
  })
})

describe('pinning a kept root again', { timeout: 60_000 }, () => {
  it('does not hold up revocations while it waits for a provider', async (t) => {
    const peers = storagePeers()
    t.after(() => peers.stop())
    const ada = await peers.add({ storage: { checkMeanMs: 0 } })
    const bob = await peers.add({ storage: { checkMeanMs: 0 } })
    const keeper = await peers.add({ storage: { sweepIntervalMs: 60_000 } })
    await peers.connect(ada, keeper)
    await peers.connect(bob, keeper)
    const dropped: string[] = []
    keeper.storage.addEventListener('storage:dropped', (e) => dropped.push(e.detail.cid))
    const add = async (peer: StoragePeer) => {
      const bytes = randomBytes(2 * CHUNK)
      return (
        await peer.content.add([{ path: 'f', content: [bytes], size: bytes.length }], { chunker: `size-${CHUNK}` })
      ).cid
    }
    keeper.authority.give(ada.identity, { quota: 1 << 20 })
    const bobGrant = keeper.authority.give(bob.identity, { quota: 1 << 20 })
    const lost = await add(ada)
    const other = await add(bob)
    await ada.storage.put(lost, keeper.net.peerId)
    await bob.storage.put(other, keeper.net.peerId)
    // Ada's root loses its pin and its blocks on the keeper, and no one else has it.
    await keeper.content.unpin(lost)
    await keeper.content.gc()
    await ada.content.unpin(lost)
    await ada.content.gc()
    // A grant change starts a sweep, which tries to pin `lost` again and waits for a provider.
    keeper.authority.give(ada.identity, { quota: 1 << 20 })
    keeper.authority.revoke(bobGrant)
    await waitFor(() => dropped.includes(other), { what: "bob's copy dropped on revocation", timeoutMs: 3_000 })
  })
})
