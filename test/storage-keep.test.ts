/**
 * Delegated storage in one process (fake delegation authority, test/helpers/storage-peers.ts):
 * a copy within the quota is kept and can be fetched back from the keeper alone; beyond the quota,
 * without a grant, or larger than claimed it is refused and nothing stays; holders are counted so
 * one drop never takes what another identity or the node's own user keeps; records survive a
 * restart.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { QuotaExceededError, StorageRefusedError } from '../src/core/errors.ts'
import { exchange } from '../src/storage/exchange.ts'
import type { StorageRefusal } from '../src/storage/index.ts'
import { waitFor } from '../src/testing/wait.ts'
import { type StoragePeer, type StoragePeers, storagePeers, World } from './helpers/storage-peers.ts'

const CHUNK = 64 * 1024

async function addFile(peer: StoragePeer, bytes: Uint8Array): Promise<string> {
  const { cid } = await peer.content.add([{ path: 'f', content: [bytes], size: bytes.length }], {
    chunker: `size-${CHUNK}`,
  })
  return cid
}

async function blockCount(peer: StoragePeer): Promise<number> {
  let n = 0
  for await (const _ of peer.blocks.cids()) n++
  return n
}

async function catAll(peer: StoragePeer, cid: string): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of peer.content.cat(cid)) parts.push(chunk)
  return Buffer.concat(parts)
}

/** Delete the owner's own copy: unpin, collect. */
async function forget(peer: StoragePeer, cid: string): Promise<void> {
  await peer.content.unpin(cid)
  await peer.content.gc()
  assert.equal(await peer.blocks.has(CID.parse(cid)), false)
}

describe('delegated storage: keeping (in process)', { timeout: 60_000 }, () => {
  let peers: StoragePeers
  let owner: StoragePeer
  let keeper: StoragePeer

  before(async () => {
    peers = storagePeers()
    owner = await peers.add()
    keeper = await peers.add()
    await peers.connect(owner, keeper)
  })
  after(() => peers.stop())

  it('keeps a copy within the quota; its bytes come back from the keeper alone after the owner deleted its own', async () => {
    const bytes = randomBytes(5 * CHUNK + 123)
    const cid = await addFile(owner, bytes)
    const grant = keeper.authority.give(owner.identity, { quota: 1024 * 1024 })
    const kept = new Promise((resolve) => keeper.storage.addEventListener('storage:kept', (e) => resolve(e.detail)))
    const [outcome] = await owner.storage.put(cid, keeper.net.peerId)
    assert.equal(outcome?.status, 'kept')
    assert.ok((outcome?.size ?? 0) > bytes.length, 'the DAG holds the file and its root node')
    assert.deepEqual({ subject: ((await kept) as { subject: string }).subject }, { subject: owner.identity })
    assert.equal(keeper.storage.kept().length, 1)
    assert.ok(
      (await keeper.content.pins()).some((p) => p.cid === cid),
      'pinned on the keeper',
    )
    const [placed] = owner.storage.placed()
    assert.equal(placed?.peer, keeper.net.peerId)
    assert.equal(placed?.challengesLeft, 32)

    await forget(owner, cid)
    await owner.content.fetch(CID.parse(cid), { timeoutMs: 5_000 })
    assert.deepEqual(await catAll(owner, cid), bytes)
    await owner.storage.drop(cid, keeper.net.peerId)
    keeper.authority.revoke(grant)
  })

  it('counts a DAG with repeated chunks once, as the keeper stores it', async () => {
    const bytes = new Uint8Array(6 * CHUNK) // all zeros: six links to one leaf
    const cid = await addFile(owner, bytes)
    const grant = keeper.authority.give(owner.identity, { quota: 2 * CHUNK })
    const [outcome] = await owner.storage.put(cid, keeper.net.peerId)
    assert.equal(outcome?.status, 'kept')
    assert.ok((outcome?.size ?? 0) < 2 * CHUNK)
    await owner.storage.drop(cid, keeper.net.peerId)
    keeper.authority.revoke(grant)
  })

  it('refuses a copy beyond the quota with a clear error, and fetches nothing', async () => {
    const cid = await addFile(owner, randomBytes(4 * CHUNK))
    const grant = keeper.authority.give(owner.identity, { quota: 2 * CHUNK })
    await keeper.content.gc()
    const before = await blockCount(keeper)
    const refusals: StorageRefusal[] = []
    keeper.storage.addEventListener('storage:refused', (e) => refusals.push(e.detail))
    await assert.rejects(owner.storage.put(cid, keeper.net.peerId), (err: Error) => {
      assert.ok(err instanceof QuotaExceededError, err.name)
      assert.match(err.message, /over quota: the grant from identity \S+ allows 131072 bytes/)
      return true
    })
    assert.equal(await blockCount(keeper), before, 'no block was fetched')
    assert.equal(refusals[0]?.code, 'over-quota')
    assert.equal(owner.storage.placed().filter((p) => p.cid === cid).length, 0)
    keeper.authority.revoke(grant)
  })

  it('refuses without a grant from the identity', async () => {
    const cid = await addFile(owner, randomBytes(CHUNK))
    const before = await blockCount(keeper)
    await assert.rejects(owner.storage.put(cid, keeper.net.peerId), (err: Error) => {
      assert.ok(err instanceof StorageRefusedError, err.name)
      assert.equal((err as StorageRefusedError).code, 'no-grant')
      return true
    })
    assert.equal(await blockCount(keeper), before)
  })

  it('refuses to place content the owner does not have', async () => {
    const other = await peers.add()
    const cid = await addFile(other, randomBytes(CHUNK))
    await assert.rejects(owner.storage.put(cid, keeper.net.peerId), /is not all stored here/)
  })

  it('abandons a DAG larger than its owner claimed, keeps none of it', async () => {
    const cid = await addFile(owner, randomBytes(8 * CHUNK))
    const grant = keeper.authority.give(owner.identity, { quota: 1024 * 1024 })
    await keeper.content.gc()
    const before = await blockCount(keeper)
    const inv = await owner.authority.invoke(keeper.net.peerId, '/store/put', { cid, size: 2 * CHUNK })
    const answer = await exchange(owner.net, keeper.net.peerId, 'put', inv, {
      timeoutMs: 10_000,
      proofMaxBytes: 1 << 20,
    })
    assert.equal(answer.t, 'refused')
    assert.equal(answer.t === 'refused' && answer.code, 'size-mismatch')
    assert.equal(keeper.storage.kept().length, 0)
    await waitFor(async () => (await blockCount(keeper)) === before, { what: 'the partial DAG collected' })
    keeper.authority.revoke(grant)
  })

  it('refuses a replayed invocation and one from a device not of the identity', async () => {
    const cid = await addFile(owner, randomBytes(CHUNK))
    const grant = keeper.authority.give(owner.identity, { quota: 1024 * 1024 })
    const inv = await owner.authority.invoke(keeper.net.peerId, '/store/put', { cid, size: 2 * CHUNK })
    const first = await exchange(owner.net, keeper.net.peerId, 'put', inv, {
      timeoutMs: 10_000,
      proofMaxBytes: 1 << 20,
    })
    assert.equal(first.t, 'kept')
    const again = await exchange(owner.net, keeper.net.peerId, 'drop', inv, {
      timeoutMs: 10_000,
      proofMaxBytes: 1 << 20,
    })
    assert.equal(again.t === 'refused' && again.code, 'invalid')

    const stranger = await peers.add({ identity: owner.identity })
    peers.world.removeDevice(owner.identity, stranger.net.peerId)
    await peers.connect(stranger, keeper)
    const forged = await stranger.authority.invoke(keeper.net.peerId, '/store/drop', { cid })
    const refused = await exchange(stranger.net, keeper.net.peerId, 'drop', forged, {
      timeoutMs: 10_000,
      proofMaxBytes: 1 << 20,
    })
    assert.equal(refused.t === 'refused' && refused.code, 'invalid')
    assert.match(refused.t === 'refused' ? refused.error : '', /not a current device/)
    assert.equal(keeper.storage.kept().length, 1)
    keeper.authority.revoke(grant)
    await waitFor(() => keeper.storage.kept().length === 0, { what: 'dropped on revocation' })
  })
})

describe('delegated storage: holders and restarts (in process)', { timeout: 60_000 }, () => {
  let peers: StoragePeers
  let alice: StoragePeer
  let bob: StoragePeer
  let keeper: StoragePeer

  before(async () => {
    peers = storagePeers()
    alice = await peers.add()
    bob = await peers.add()
    keeper = await peers.add()
    await peers.connect(alice, keeper)
    await peers.connect(bob, keeper)
  })
  after(() => peers.stop())

  it('one identity dropping a root leaves it pinned for another, and for the node itself', async () => {
    const bytes = randomBytes(3 * CHUNK)
    const cid = await addFile(alice, bytes)
    assert.equal(await addFile(bob, bytes), cid)
    keeper.authority.give(alice.identity, { quota: 1 << 20 })
    keeper.authority.give(bob.identity, { quota: 1 << 20 })
    await alice.storage.put(cid, keeper.net.peerId)
    await bob.storage.put(cid, keeper.net.peerId)
    assert.equal(keeper.storage.kept().length, 2)
    await alice.storage.drop(cid, keeper.net.peerId)
    assert.ok(
      (await keeper.content.pins()).some((p) => p.cid === cid),
      'still pinned for bob',
    )
    await bob.storage.drop(cid, keeper.net.peerId)
    assert.ok(!(await keeper.content.pins()).some((p) => p.cid === cid), 'unpinned with its last holder')

    // Pinned by the keeper's own user first: no drop unpins it.
    await keeper.content.pin(cid, { timeoutMs: 5_000 })
    await alice.storage.put(cid, keeper.net.peerId)
    await alice.storage.drop(cid, keeper.net.peerId)
    assert.ok(
      (await keeper.content.pins()).some((p) => p.cid === cid),
      "the node's own pin stays",
    )
    await keeper.content.unpin(cid)
  })

  it('pins again a kept root someone unpinned by hand', async () => {
    const cid = await addFile(alice, randomBytes(2 * CHUNK))
    await alice.storage.put(cid, keeper.net.peerId)
    await keeper.content.unpin(cid)
    await keeper.storage.sweep() // pins again in the background
    await waitFor(async () => (await keeper.content.pins()).some((p) => p.cid === cid), { what: 'pinned again' })
    await alice.storage.drop(cid, keeper.net.peerId)
  })

  it('kept copies and placements survive a restart of the service', async () => {
    const cid = await addFile(alice, randomBytes(2 * CHUNK))
    await alice.storage.put(cid, keeper.net.peerId)
    await keeper.restart()
    await alice.restart()
    assert.deepEqual(
      keeper.storage.kept().map((c) => [c.subject, c.cid]),
      [[alice.identity, cid]],
    )
    const [placed] = alice.storage.placed(keeper.net.peerId)
    assert.equal(placed?.cid, cid)
    assert.equal(placed?.challengesLeft, 32)
    const [check] = await alice.storage.check(cid, keeper.net.peerId)
    assert.equal(check?.status, 'proven', check?.reason)
  })
})

describe('delegated storage: targets', () => {
  it('refuses what is neither a peer ID nor a known identity before reading anything', async (t) => {
    const peers = storagePeers()
    t.after(() => peers.stop())
    const owner = await peers.add()
    await assert.rejects(owner.storage.put('bafkqaaa', 'bob'), /bob is not a peer ID, a contact name or an identity ID/)
    await assert.rejects(owner.storage.put('bafkqaaa', owner.net.peerId), /cannot keep content for itself/)
    const unknown = await World.identityId()
    await assert.rejects(owner.storage.put('bafkqaaa', unknown), /is not known here yet/)
  })
})

describe('delegated storage: a person as keeper', { timeout: 60_000 }, () => {
  it('keeps on the devices of the identity that hold a grant; check and drop reach them', async (t) => {
    const peers = storagePeers()
    t.after(() => peers.stop())
    const owner = await peers.add()
    const box = await peers.add()
    const laptop = await peers.add({ identity: box.identity })
    await peers.connect(owner, box)
    await peers.connect(owner, laptop)
    const cid = await addFile(owner, randomBytes(2 * CHUNK))

    await assert.rejects(owner.storage.put(cid, box.identity), (err: Error) => {
      assert.ok(err instanceof StorageRefusedError, err.name)
      assert.match(err.message, /^no device of identity \S+ keeps \S+: .*no valid \/store\/put grant.*; .*no valid/)
      return true
    })

    box.authority.give(owner.identity, { quota: 1 << 20 })
    const outcomes = await owner.storage.put(cid, box.identity)
    assert.deepEqual(
      outcomes.map((o) => [o.peer, o.status, o.code]).sort(),
      [
        [box.net.peerId, 'kept', undefined],
        [laptop.net.peerId, 'refused', 'no-grant'],
      ].sort(),
    )
    assert.deepEqual(
      owner.storage.placed(box.identity).map((p) => p.peer),
      [box.net.peerId],
    )
    const checks = await owner.storage.check(cid, box.identity)
    assert.deepEqual(
      checks.map((c) => [c.peer, c.status]),
      [[box.net.peerId, 'proven']],
    )
    assert.deepEqual(await owner.storage.drop(cid, box.identity), [box.net.peerId])
    assert.equal(box.storage.kept().length, 0)
  })
})
