/**
 * The merge rules (docs/protocols/identity.md, "Merge"): concurrent entries written on separate
 * replicas, delivered in every order to independent peers, give one state, and the state the
 * rules say: a removal beats a concurrent add and everything else concurrent by the removed
 * device; what a voided add let in is void too; mutual removals leave one device.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { DeviceSigner } from '../src/identity/device-signer.ts'
import { createJoinRequest, IdentityLog, type IdentityState, verifyLog } from '../src/identity/log/index.ts'
import { addDevice, newDevice, permutations, replica } from './helpers/identity-devices.ts'

const [a, b, c, x] = [newDevice(), newDevice(), newDevice(), newDevice()]

/** A log of `devices` (the first starts it, and adds the others). */
async function identityOf(...devices: DeviceSigner[]): Promise<IdentityLog> {
  const [first, ...others] = devices as [DeviceSigner, ...DeviceSigner[]]
  const log = await IdentityLog.create(first, first, { name: 'first', profile: 'Ada' })
  for (const d of others) await addDevice(log, first, d, `device ${others.indexOf(d) + 1}`)
  return log
}

/**
 * Deliver `entries` in every order, each order to its own fresh replica of `base` (a peer that
 * holds the base log), and return the states: all must be equal, whatever the order.
 */
function deliverEveryOrder(base: IdentityLog, entries: Uint8Array[]): IdentityState {
  const states = permutations(entries).map((order) => {
    const peer = replica(base)
    // Asking for the state between adds lets the log update it in place where it can.
    for (const bytes of order) peer.add(bytes) && peer.state()
    return peer.state()
  })
  // And one more peer that gets the whole log at once, newest first.
  states.push(verifyLog(base.id, [...entries, ...base.entries()].reverse()).state())
  assert.ok(states.length >= 3)
  for (const state of states) assert.deepEqual(state, states[0])
  return states[0] as IdentityState
}

const peers = (state: IdentityState) => state.devices.map((d) => d.peerId).sort()

/**
 * Concurrent entries tie in the merge order by CID, so a rule could hold for one CID order only.
 * Write an entry again (a fresh replica of `base`, another time) until its CID sorts as wanted.
 */
async function withCid(
  base: IdentityLog,
  write: (peer: IdentityLog, time: number) => Promise<{ cid: string; bytes: Uint8Array }>,
  wanted: (cid: string) => boolean,
): Promise<{ cid: string; bytes: Uint8Array }> {
  for (let time = 1; time < 10_000; time++) {
    const written = await write(replica(base), time)
    if (wanted(written.cid)) return written
  }
  throw new Error('no CID in the wanted order')
}

const remove = (by: DeviceSigner, device: DeviceSigner) => (peer: IdentityLog, time: number) =>
  peer.append(by, { kind: 'removeDevice', device: device.peerId }, { time })

describe('identity log merge', () => {
  for (const removalFirst of [true, false]) {
    it(`A adds X while B removes A: the removal wins, X is not added (removal ${removalFirst ? 'first' : 'last'} by CID)`, async () => {
      const base = await identityOf(a, b)
      const join = await createJoinRequest(x, x, { identity: base.id, name: 'x' })
      const add = await replica(base).append(a, { kind: 'addDevice', join })
      const removal = await withCid(base, remove(b, a), (cid) => cid < add.cid === removalFirst)
      const state = deliverEveryOrder(base, [add.bytes, removal.bytes])
      assert.deepEqual(peers(state), [b.peerId])
      assert.deepEqual(
        state.removed.map((r) => r.peerId),
        [a.peerId],
      )
      assert.equal(state.entries, base.size + 2)
    })
  }

  it('A adds X while B removes X (added before, re-added concurrently): the removal wins', async () => {
    const base = await identityOf(a, b, c)
    const first = replica(base)
    const add1 = await addDevice(first, a, x, 'x')
    // B saw the first add and removes X; C, concurrently with both, adds X again.
    const bSide = replica(first)
    const removal = (await bSide.append(b, { kind: 'removeDevice', device: x.peerId })).bytes
    const add2 = await addDevice(replica(base), c, x, 'x again')
    const state = deliverEveryOrder(base, [add1, removal, add2])
    assert.deepEqual(peers(state), [a.peerId, b.peerId, c.peerId].sort())
    assert.deepEqual(
      state.removed.map((r) => r.peerId),
      [x.peerId],
    )
  })

  for (const removalFirst of [true, false]) {
    it(`entries of a removed device concurrent with its removal are void, and what they let in (removal ${removalFirst ? 'first' : 'last'} by CID)`, async () => {
      const base = await identityOf(a, b)
      const aSide = replica(base)
      const profile = await aSide.append(a, { kind: 'setProfile', name: 'Mallory' })
      const add = await aSide.append(a, {
        kind: 'addDevice',
        join: await createJoinRequest(x, x, { identity: base.id, name: 'x' }),
      })
      // X, added by A before A saw its removal, writes too: void with the add that let it in.
      const xProfile = await replica(aSide).append(x, { kind: 'setProfile', name: 'X was here' })
      const concurrent = [profile.cid, add.cid, xProfile.cid]
      const removal = await withCid(base, remove(b, a), (cid) =>
        removalFirst ? cid < profile.cid : concurrent.every((other) => cid > other),
      )
      const all = [profile.bytes, add.bytes, xProfile.bytes, removal.bytes]
      const state = deliverEveryOrder(base, all)
      assert.equal(state.name, 'Ada')
      assert.deepEqual(peers(state), [b.peerId])
      const peer = replica(base)
      for (const bytes of all) peer.add(bytes)
      for (const cid of [profile.cid, add.cid]) {
        assert.match(peer.voidReason(cid) ?? '', removalFirst ? /removed by/ : /concurrent with its removal/)
      }
      assert.match(peer.voidReason(xProfile.cid) ?? '', /not a device/)
      assert.equal(peer.voidReason(removal.cid), undefined)
    })
  }

  it('an entry that saw only a void addition of its signer stays void when the signer is added again', async () => {
    const base = await identityOf(a, b, c)
    const aSide = replica(base)
    const add1 = await aSide.append(a, {
      kind: 'addDevice',
      join: await createJoinRequest(x, x, { identity: base.id, name: 'x' }),
    })
    const removal = await replica(base).append(b, { kind: 'removeDevice', device: a.peerId })
    // C sees both: the first addition is void, so C adds X again.
    const cSide = replica(base)
    cSide.add(add1.bytes)
    cSide.add(removal.bytes)
    const add2 = await cSide.append(c, {
      kind: 'addDevice',
      join: await createJoinRequest(x, x, { identity: base.id, name: 'x again' }),
    })
    // X wrote after the first addition only; placed after the second in the merge order.
    const xEntry = await withCid(
      aSide,
      (peer, time) => peer.append(x, { kind: 'setProfile', name: 'X' }, { time }),
      (cid) => cid > add2.cid && cid > removal.cid,
    )
    const state = deliverEveryOrder(base, [add1.bytes, removal.bytes, add2.bytes, xEntry.bytes])
    assert.deepEqual(peers(state), [b.peerId, c.peerId, x.peerId].sort())
    assert.equal(state.devices.find((d) => d.peerId === x.peerId)?.entry, add2.cid)
    assert.equal(state.name, 'Ada')
    const peer = verifyLog(base.id, [...base.entries(), add1.bytes, removal.bytes, add2.bytes, xEntry.bytes])
    assert.match(peer.voidReason(xEntry.cid) ?? '', /whose addition .* it did not see/)
  })

  it('two devices removing each other at once: one of them stays, the same one everywhere', async () => {
    const base = await identityOf(a, b)
    const r1 = (await replica(base).append(a, { kind: 'removeDevice', device: b.peerId })).bytes
    const r2 = (await replica(base).append(b, { kind: 'removeDevice', device: a.peerId })).bytes
    const state = deliverEveryOrder(base, [r1, r2])
    assert.equal(state.devices.length, 1)
    assert.equal(state.removed.length, 1)
    // The tie is broken by the merge order: the removal with the smaller CID comes first and wins.
    const cid = (bytes: Uint8Array) => replica(base).add(bytes).cid
    const winner = cid(r1) < cid(r2) ? a : b
    assert.deepEqual(peers(state), [winner.peerId])
  })

  it('C removes B while B removes A: B’s removal is void (its signer was removed), A stays', async () => {
    const base = await identityOf(a, b, c)
    const byB = (await replica(base).append(b, { kind: 'removeDevice', device: a.peerId })).bytes
    const byC = (await replica(base).append(c, { kind: 'removeDevice', device: b.peerId })).bytes
    const state = deliverEveryOrder(base, [byB, byC])
    assert.deepEqual(peers(state), [a.peerId, c.peerId].sort())
    assert.deepEqual(
      state.removed.map((r) => r.peerId),
      [b.peerId],
    )
  })

  it('D removes C, C removes B, B removes A, all at once: the unbeaten removal settles first (C and A go)', async () => {
    const d = newDevice()
    const base = await identityOf(a, b, c, d)
    // The hardest merge order: each removal before the one that beats it.
    const byB = await replica(base).append(b, { kind: 'removeDevice', device: a.peerId })
    const byC = await withCid(base, remove(c, b), (cid) => cid > byB.cid)
    const byD = await withCid(base, remove(d, c), (cid) => cid > byC.cid)
    const state = deliverEveryOrder(base, [byB.bytes, byC.bytes, byD.bytes])
    assert.deepEqual(peers(state), [b.peerId, d.peerId].sort())
    assert.deepEqual(state.removed.map((r) => r.peerId).sort(), [a.peerId, c.peerId].sort())
  })

  it('two rotations at once: one epoch 1 key, the same everywhere; a concurrent add is left without a copy', async () => {
    const base = await identityOf(a, b, c)
    const ra = (await replica(base).append(a, { kind: 'rotateDataKey', dataKey: new Uint8Array(32).fill(1) })).bytes
    const rb = (await replica(base).append(b, { kind: 'rotateDataKey', dataKey: new Uint8Array(32).fill(2) })).bytes
    const add = await addDevice(replica(base), c, x, 'x')
    const state = deliverEveryOrder(base, [ra, rb, add])
    assert.equal(state.dataKey.epoch, 1)
    assert.deepEqual(state.dataKey.missing, [x.peerId])
    const peer = replica(base)
    for (const bytes of [ra, rb, add]) peer.add(bytes)
    const { key } = peer.openDataKey(b, b.peerId)
    assert.deepEqual(key, peer.openDataKey(a, a.peerId).key)
  })
})
