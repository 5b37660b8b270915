/**
 * The identity log (src/identity/log/): a whole life of an identity round-trips through another
 * peer's verification and a datastore; addDevice needs both signatures; what the log refuses
 * (tampered, oversized, too many, forked, out-of-rule entries) it refuses with the reason.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryDatastore } from 'datastore-core'
import { CID } from 'multiformats/cid'
import { IDENTITY_MAX_DEVICES } from '../src/core/constants.ts'
import { ForkError, IdentityLogFullError } from '../src/core/errors.ts'
import { signEntry } from '../src/identity/log/entry-codec.ts'
import {
  createIdentityLogStore,
  createJoinRequest,
  IdentityLog,
  newDataKey,
  openDataKey,
  sealDataKey,
  verifyLog,
} from '../src/identity/log/index.ts'
import { addDevice, newDevice, replica } from './helpers/identity-devices.ts'

const [laptop, phone, tablet, stranger] = [newDevice(), newDevice(), newDevice(), newDevice()]

/** Hand-made entries, bypassing the checks `append` makes, as a hostile or broken peer would. */
function common(log: IdentityLog, device: string, seq: number, prev = log.heads()) {
  return { identity: log.id, prev: prev.map((c) => CID.parse(c)), device, seq, time: 1 }
}

describe('identity log', () => {
  it('round-trips a whole life: genesis, adds, profile, removal, rotations; through verifyLog and a datastore', async () => {
    const log = await IdentityLog.create(laptop, laptop, { name: 'laptop', profile: 'Ada' })
    const epoch1 = newDataKey()
    await log.append(laptop, { kind: 'rotateDataKey', dataKey: epoch1 })
    await addDevice(log, laptop, phone, 'phone')
    await addDevice(log, phone, tablet, 'tablet')
    await log.append(tablet, { kind: 'setProfile', name: 'Ada L.' })
    const epoch2 = newDataKey()
    await log.append(phone, { kind: 'rotateDataKey', dataKey: epoch2 })
    const tabletCopy = log.state().dataKey.sealed.find((c) => c.device === tablet.peerId)
    await log.append(laptop, { kind: 'removeDevice', device: tablet.peerId, lost: true, reason: 'stolen' })
    assert.equal(log.state().dataKey.stale, true, 'the removed tablet holds the epoch 2 key')
    const epoch3 = newDataKey()
    await log.append(laptop, { kind: 'rotateDataKey', dataKey: epoch3 })

    const state = log.state()
    assert.equal(state.id, log.id)
    assert.equal(state.name, 'Ada L.')
    assert.deepEqual(state.devices.map((d) => d.peerId).sort(), [laptop.peerId, phone.peerId].sort())
    const phoneRecord = state.devices.find((d) => d.peerId === phone.peerId)
    assert.equal(phoneRecord?.name, 'phone')
    assert.equal(phoneRecord?.addedBy, laptop.peerId)
    assert.equal(phoneRecord?.seq, 2)
    assert.deepEqual(
      state.removed.map(({ peerId, lost, reason, by, name }) => ({ peerId, lost, reason, by, name })),
      [{ peerId: tablet.peerId, lost: true, reason: 'stolen', by: laptop.peerId, name: 'tablet' }],
    )
    assert.equal(log.revokedAt(tablet.peerId)?.entry, state.removed[0]?.entry)
    assert.equal(log.isMember(tablet.peerId), false)
    assert.equal(log.isMember(phone.peerId), true)
    assert.equal(state.entries, 8)
    assert.equal(state.heads.length, 1)
    assert.deepEqual(
      { epoch: state.dataKey.epoch, missing: state.dataKey.missing, stale: state.dataKey.stale },
      { epoch: 3, missing: [], stale: false },
    )
    assert.deepEqual(log.openDataKey(phone, phone.peerId), { epoch: 3, key: epoch3 })
    assert.deepEqual(log.openDataKey(laptop, laptop.peerId).key, epoch3)
    // The tablet opens what was sealed to it before its removal, and nothing after.
    const context = { identity: log.id, epoch: 2, device: tablet.peerId }
    assert.deepEqual(openDataKey(tabletCopy!, tablet, context), epoch2)
    assert.throws(() => log.openDataKey(tablet, tablet.peerId), { name: 'NotFoundError' })
    const phoneCopy = state.dataKey.sealed.find((c) => c.device === phone.peerId)!
    assert.throws(() => openDataKey({ ...phoneCopy, device: tablet.peerId }, tablet, { ...context, epoch: 3 }), {
      name: 'InvalidInputError',
    })

    // Another peer, entries in reverse order (children before parents wait in the pending set).
    const copy = IdentityLog.fromGenesis(log.entry(log.id)!)
    for (const bytes of [...log.entries()].reverse()) copy.add(bytes)
    assert.deepEqual(copy.state(), state)
    assert.deepEqual(verifyLog(log.id, [...log.entries()].reverse()).state(), state)

    const store = createIdentityLogStore(new MemoryDatastore())
    assert.equal(await store.save(log), 8)
    assert.equal(await store.save(log), 0)
    assert.deepEqual(await store.identities(), [log.id])
    assert.deepEqual((await store.load(log.id))?.state(), state)
    await store.delete(log.id)
    assert.equal(await store.load(log.id), undefined)
  })

  it('a profile names mailboxes (sorted, bounded) and replaces the previous profile whole', async () => {
    const log = await IdentityLog.create(laptop, laptop, { name: 'laptop', profile: 'Ada' })
    await log.append(laptop, { kind: 'setProfile', name: 'Ada', mailboxes: [stranger.peerId, phone.peerId] })
    assert.deepEqual(log.state().mailboxes, [stranger.peerId, phone.peerId].sort())
    assert.equal(log.state().name, 'Ada')
    await log.append(laptop, { kind: 'setProfile', name: 'Ada' })
    assert.deepEqual(log.state().mailboxes, [], 'a profile without mailboxes clears them')
    const unsorted = await signEntry(laptop, 'setProfile', {
      ...common(log, laptop.peerId, 3),
      mailboxes: [phone.peerId, stranger.peerId].sort().reverse(),
    })
    assert.throws(() => log.add(unsorted), /"mailboxes" must be sorted/)
    const junk = await signEntry(laptop, 'setProfile', { ...common(log, laptop.peerId, 3), mailboxes: ['not a peer'] })
    assert.throws(() => log.add(junk), /mailbox/)
    const copy = verifyLog(log.id, log.entries())
    assert.deepEqual(copy.state(), log.state())
  })

  it('addDevice needs the new device’s join signature and an existing device’s', async () => {
    const log = await IdentityLog.create(laptop, laptop, { name: 'laptop' })
    // The join record names the phone but the stranger signed it: the phone never agreed.
    const forged = await createJoinRequest(stranger, stranger, { identity: log.id, name: 'phone' })
    const join = await createJoinRequest(phone, phone, { identity: log.id, name: 'phone' })
    const forgedJoin = Uint8Array.from(join)
    forgedJoin.set(forged.subarray(3, 67), 3) // the stranger's signature over the phone's record
    await assert.rejects(log.append(laptop, { kind: 'addDevice', join: forgedJoin }), {
      name: 'InvalidInputError',
      message: /join record refused: signature does not match/,
    })
    // No join signature at all: an addDevice signed by the laptop alone.
    const noJoin = await signEntry(laptop, 'addDevice', { ...common(log, laptop.peerId, 1), join: new Uint8Array(0) })
    assert.throws(() => log.add(noJoin), { name: 'InvalidInputError', message: /join record refused/ })
    // The phone signs its own addDevice: only the join signature, no device of the identity's.
    const selfAdd = await signEntry(phone, 'addDevice', { ...common(log, phone.peerId, 1), join })
    assert.throws(() => log.add(selfAdd), { name: 'IdentityRuleError', message: /not a device of the identity/ })
    // A join record for another identity.
    const other = await IdentityLog.create(stranger, stranger, { name: 'x' })
    const otherJoin = await createJoinRequest(phone, phone, { identity: other.id, name: 'phone' })
    await assert.rejects(log.append(laptop, { kind: 'addDevice', join: otherJoin }), {
      name: 'IdentityRuleError',
      message: /join record names identity/,
    })
    assert.equal(log.size, 1, 'nothing was added')
    await log.append(laptop, { kind: 'addDevice', join })
    assert.equal(log.isMember(phone.peerId), true)
  })

  it('refuses tampered, oversized, misnumbered and out-of-rule entries with the reason', async () => {
    const log = await IdentityLog.create(laptop, laptop, { name: 'laptop' })
    await addDevice(log, laptop, phone, 'phone')
    const fresh = () => replica(log)
    const good = await signEntry(laptop, 'setProfile', { ...common(log, laptop.peerId, 2), name: 'Ada' })
    const tampered = Uint8Array.from(good)
    const at = tampered.length - 2 // inside the name: the signed payload changes
    tampered[at] = (tampered[at] as number) ^ 1
    assert.throws(() => fresh().add(tampered), { name: 'InvalidInputError', message: /signature does not match/ })
    const big = await signEntry(laptop, 'addDevice', { ...common(log, laptop.peerId, 2), join: new Uint8Array(9000) })
    assert.throws(() => fresh().add(big), {
      name: 'InvalidInputError',
      message: /identity log entry of \d+ bytes exceeds the limit of 8192/,
    })
    assert.throws(() => replica(log, { maxEntryBytes: 300 }).add(good), {
      message: /entry of \d+ bytes exceeds .* 300/,
    })
    // A rotation must seal the key to every device its writer knew.
    const partial = await signEntry(laptop, 'rotateDataKey', {
      ...common(log, laptop.peerId, 2),
      epoch: 1,
      sealed: [
        sealDataKey(newDataKey(), laptop.x25519PublicKey, { identity: log.id, epoch: 1, device: laptop.peerId }),
      ],
    })
    const rotated = fresh()
    assert.equal(rotated.add(partial).status, 'added')
    assert.equal(rotated.voidReason(rotated.heads()[0]!), `leaves out device ${phone.peerId}`)
    assert.equal(rotated.state().dataKey.epoch, 0)
    const skipped = await signEntry(laptop, 'setProfile', { ...common(log, laptop.peerId, 3), name: 'Ada' })
    assert.throws(() => fresh().add(skipped), { name: 'IdentityRuleError', message: /seq 3 .* expected 2/ })
    const foreign = await signEntry(laptop, 'setProfile', {
      ...common(log, laptop.peerId, 2),
      identity: 'x',
      name: 'A',
    })
    assert.throws(() => fresh().add(foreign), { name: 'IdentityRuleError', message: /belongs to identity x/ })
    const outsider = await signEntry(stranger, 'setProfile', { ...common(log, stranger.peerId, 1), name: 'A' })
    assert.throws(() => fresh().add(outsider), { name: 'IdentityRuleError', message: /not a device of the identity/ })
    const genesis2 = await IdentityLog.create(laptop, laptop, { name: 'laptop' })
    assert.throws(() => fresh().add(genesis2.entry(genesis2.id)!), { message: /second genesis/ })
    const notNfc = await signEntry(laptop, 'setProfile', { ...common(log, laptop.peerId, 2), name: 'Ade\u0301' })
    assert.throws(() => fresh().add(notNfc), { name: 'InvalidInputError', message: /NFC/ })

    // After its removal, the phone's entries are void; it cannot be added back.
    const removal = await log.append(laptop, { kind: 'removeDevice', device: phone.peerId })
    const late = await signEntry(phone, 'setProfile', { ...common(log, phone.peerId, 1), name: 'mine now' })
    const afterRemoval = fresh()
    const taken = afterRemoval.add(late)
    assert.equal(taken.status, 'added')
    assert.equal(afterRemoval.voidReason(taken.cid), `signed by ${phone.peerId}, removed by ${removal.cid}`)
    assert.equal(afterRemoval.state().name, undefined)
    await assert.rejects(addDevice(log, laptop, phone), { name: 'IdentityRuleError', message: /cannot come back/ })
    await assert.rejects(log.append(phone, { kind: 'setProfile', name: 'x' }), { name: 'IdentityRuleError' })
    // The last device cannot be removed: refused to write, and void when hand-made.
    await assert.rejects(log.append(laptop, { kind: 'removeDevice', device: laptop.peerId }), {
      name: 'IdentityRuleError',
      message: /the last device/,
    })
    const last = await signEntry(laptop, 'removeDevice', {
      ...common(log, laptop.peerId, 3),
      target: laptop.peerId,
      lost: false,
      reason: '',
    })
    const copy = fresh()
    assert.equal(copy.add(last).status, 'added')
    assert.match(copy.voidReason(copy.heads()[0]!) ?? '', /the last device/)
    assert.equal(copy.isMember(laptop.peerId), true)
    assert.equal(log.revokedAt(phone.peerId)?.entry, removal.cid)
  })

  it('holds entries with unknown parents pending, then applies them; bounds pending and entries', async () => {
    const log = await IdentityLog.create(laptop, laptop, { name: 'laptop' })
    const a = await log.append(laptop, { kind: 'setProfile', name: 'A' })
    const b = await log.append(laptop, { kind: 'setProfile', name: 'B' })
    const c = await log.append(laptop, { kind: 'setProfile', name: 'C' })
    const copy = IdentityLog.fromGenesis(log.entry(log.id)!)
    assert.deepEqual(copy.add(c.bytes), { status: 'pending', cid: c.cid, missing: [b.cid] })
    assert.deepEqual(copy.add(b.bytes), { status: 'pending', cid: b.cid, missing: [a.cid] })
    assert.deepEqual(copy.missing(), [a.cid])
    assert.equal(copy.state().name, undefined)
    assert.deepEqual(copy.add(a.bytes), { status: 'added', cid: a.cid, released: [b.cid, c.cid], dropped: [] })
    assert.equal(copy.state().name, 'C')
    assert.deepEqual(copy.add(a.bytes), { status: 'duplicate', cid: a.cid })

    // One pending entry at most: the newest orphan pushes the oldest out, which is asked for again.
    const small = IdentityLog.fromGenesis(log.entry(log.id)!, { maxPending: 1, maxEntries: 3 })
    small.add(c.bytes)
    assert.deepEqual(small.add(b.bytes), { status: 'pending', cid: b.cid, missing: [a.cid] })
    assert.deepEqual(small.add(a.bytes), { status: 'added', cid: a.cid, released: [b.cid], dropped: [] })
    assert.equal(small.size, 3)
    assert.throws(() => small.add(c.bytes), { name: 'IdentityLogFullError', message: /holds 3 entries, the most/ })
    assert.throws(() => IdentityLog.fromGenesis(log.entry(log.id)!, { maxPending: 0 }).add(c.bytes), {
      name: 'IdentityLogFullError',
      message: /keeps no entries waiting/,
    })
    assert.throws(() => verifyLog(log.id, log.entries(), { maxEntries: 3 }), IdentityLogFullError)
    const full = verifyLog(log.id, log.entries().slice(0, 3), { maxEntries: 3 })
    assert.throws(() => full.add(c.bytes), { name: 'IdentityLogFullError', message: /holds 3 entries, the most/ })
    await assert.rejects(full.append(laptop, { kind: 'setProfile', name: 'D' }), IdentityLogFullError)
    assert.throws(() => verifyLog(log.id, [log.entry(log.id)!, c.bytes]), { message: /not in the log/ })
  })

  it('refuses a fork: two entries of one device with one seq, with both entries as proof', async () => {
    const log = await IdentityLog.create(laptop, laptop, { name: 'laptop' })
    await addDevice(log, laptop, phone)
    const one = await signEntry(phone, 'setProfile', { ...common(log, phone.peerId, 1), name: 'one' })
    const two = await signEntry(phone, 'setProfile', { ...common(log, phone.peerId, 1), name: 'two' })
    const copy = replica(log)
    copy.add(one)
    const err = (() => {
      try {
        copy.add(two)
      } catch (e) {
        return e
      }
    })()
    assert.ok(err instanceof ForkError, String(err))
    assert.match(err.message, /fork: device .* signed two entries with seq 1/)
    const cids = [replica(log).add(one).cid, replica(log).add(two).cid].sort()
    assert.deepEqual(err.proof.cids, cids)
    assert.deepEqual(
      err.proof.entries.map((b) => replica(log).add(b).cid),
      cids,
    )
    assert.equal(copy.size, log.size + 1)
    // Found before the parents arrive too.
    const orphan = IdentityLog.fromGenesis(log.entry(log.id)!)
    orphan.add(one)
    assert.throws(() => orphan.add(two), ForkError)
  })

  it('a rotation to the most devices fits in an entry; one more device is void', async () => {
    const log = await IdentityLog.create(laptop, laptop, { name: 'laptop' })
    const devices = Array.from({ length: IDENTITY_MAX_DEVICES - 1 }, () => newDevice())
    for (const d of devices) await addDevice(log, laptop, d, 'a long device name for a bigger entry, 48 chars')
    const rotation = await log.append(laptop, { kind: 'rotateDataKey', dataKey: newDataKey() })
    assert.ok(rotation.bytes.length <= 8192, `${rotation.bytes.length} bytes`)
    assert.equal(log.state().dataKey.sealed.length, IDENTITY_MAX_DEVICES)
    await assert.rejects(addDevice(log, laptop, stranger), { name: 'IdentityRuleError', message: /devices, the most/ })
  })
})
