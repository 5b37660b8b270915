// Recovery in the identity log (issue 13): guardian sets with the data key's backup, recoveries
// approved by a threshold of guardians, vetoes, completion after the delay, and what every peer
// computes whatever order the entries arrive in.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { randomBytes } from '../src/core/crypto.ts'
import type { DeviceSigner } from '../src/identity/device-signer.ts'
import { IdentityLog, newDataKey } from '../src/identity/log/index.ts'
import { type Guardian, signApproval } from '../src/identity/log/recovery-entries.ts'
import { combineShares, openShare, splitDataKey } from '../src/identity/log/shares.ts'
import { newDevice, pull, replica } from './helpers/identity-devices.ts'

const DELAY = 60_000
const T0 = Date.UTC(2026, 10, 29, 12)

/** Five guardians, each an identity (a made-up ID) with one device. */
function guardians(n = 5, prefix = 'bafyguardian') {
  return Array.from({ length: n }, (_, i) => ({ identity: `${prefix}${i}`, device: newDevice() })).sort((a, b) =>
    a.identity < b.identity ? -1 : 1,
  )
}

async function setup(options: { threshold?: number } = {}) {
  let now = T0
  const laptop = newDevice()
  const log = await IdentityLog.create(laptop, laptop, { name: 'laptop' }, { now: () => now })
  const key = newDataKey()
  await log.append(laptop, { kind: 'rotateDataKey', dataKey: key }, { time: now })
  const gs = guardians()
  const set = await setGuardians(log, laptop, gs, options.threshold ?? 3, key, now)
  return { log, laptop, key, gs, set, clock: { set: (t: number) => (now = t), get: () => now } }
}

async function setGuardians(
  log: IdentityLog,
  by: DeviceSigner,
  gs: Array<{ identity: string; device: DeviceSigner }>,
  threshold: number,
  key: Uint8Array,
  time: number,
  delay = DELAY,
) {
  const list: Guardian[] = gs.map((g) => ({ identity: g.identity, devices: [g.device.peerId] }))
  const epoch = log.state().dataKey.epoch
  const { digests, shares } = await splitDataKey(
    key,
    gs.map((g) => ({ identity: g.identity, devices: [{ peerId: g.device.peerId, x25519: g.device.x25519PublicKey }] })),
    threshold,
    log.id,
    epoch,
  )
  return log.append(by, { kind: 'setGuardians', guardians: list, threshold, delay, epoch, digests, shares }, { time })
}

/** A new device's request, approved by `approvers`. */
async function request(log: IdentityLog, approvers: Array<{ identity: string; device: DeviceSigner }>) {
  const fresh = newDevice()
  const nonce = randomBytes(16)
  const approvals = await Promise.all(
    approvers.map((g) =>
      signApproval(g.device, {
        identity: log.id,
        device: fresh.peerId,
        x25519: fresh.x25519PublicKey,
        nonce,
        guardian: g.identity,
        time: T0,
      }),
    ),
  )
  return { fresh, nonce, approvals }
}

describe('recovery in the identity log', () => {
  it('3 of 5 guardians approve: pending, completion refused before the delay, then the new device is the only one', async () => {
    const { log, laptop, gs, clock } = await setup()
    assert.equal(log.state().guardians.current?.threshold, 3)
    const { fresh, nonce, approvals } = await request(log, gs.slice(0, 3))
    const rec = await log.append(
      fresh,
      { kind: 'recover', name: 'new phone', x25519: fresh.x25519PublicKey, nonce, approvals },
      { time: T0 + 1000 },
    )
    const pending = log.state().recovery
    assert.equal(pending?.state, 'pending')
    assert.equal(pending?.dueAt, T0 + 1000 + DELAY)
    assert.deepEqual(
      pending?.approvedBy,
      gs
        .slice(0, 3)
        .map((g) => g.identity)
        .sort(),
    )
    assert.deepEqual(
      log.state().devices.map((d) => d.peerId),
      [laptop.peerId],
      'nothing changes before completion',
    )
    await assert.rejects(
      log.append(fresh, { kind: 'completeRecovery', recovery: rec.cid }, { time: T0 + 2000 }),
      /before the recovery was due/,
    )
    clock.set(T0 + 1000 + DELAY)
    await log.append(fresh, { kind: 'completeRecovery', recovery: rec.cid }, { time: T0 + 1000 + DELAY })
    const s = log.state()
    assert.deepEqual(
      s.devices.map((d) => d.peerId),
      [fresh.peerId],
    )
    assert.equal(s.recovery?.state, 'completed')
    assert.match(s.removed.find((r) => r.peerId === laptop.peerId)?.reason ?? '', /replaced by recovery/)
    // The old device can write nothing more.
    await assert.rejects(log.append(laptop, { kind: 'setProfile', name: 'thief' }), { name: 'IdentityRuleError' })
    assert.deepEqual(replica(log).state(), log.state(), 'a peer verifying the log computes the same')
  })

  it('2 of 5 do not reach the threshold; approvals for another request or identity do not count', async () => {
    const { log, gs } = await setup()
    const two = await request(log, gs.slice(0, 2))
    await assert.rejects(
      log.append(two.fresh, {
        kind: 'recover',
        name: 'x',
        x25519: two.fresh.x25519PublicKey,
        nonce: two.nonce,
        approvals: two.approvals,
      }),
      /2 guardian\(s\) approved, 3 needed/,
    )
    // Three approvals, one of them replayed from another request (another nonce).
    const a = await request(log, gs.slice(0, 2))
    const other = await request(log, gs.slice(2, 3))
    await assert.rejects(
      log.append(a.fresh, {
        kind: 'recover',
        name: 'x',
        x25519: a.fresh.x25519PublicKey,
        nonce: a.nonce,
        approvals: [...a.approvals, ...(other.approvals as Uint8Array[])],
      }),
      /an approval is for another request/,
    )
    // An approval by a device that is not the guardian's.
    const impostor = { identity: (gs[4] as { identity: string }).identity, device: newDevice() }
    const b = await request(log, [...gs.slice(0, 2), impostor])
    await assert.rejects(
      log.append(b.fresh, {
        kind: 'recover',
        name: 'x',
        x25519: b.fresh.x25519PublicKey,
        nonce: b.nonce,
        approvals: b.approvals,
      }),
      /not a device of guardian/,
    )
    assert.equal(log.state().recovery, undefined)
  })

  it('a veto before the due time is final; a veto concurrent with the completion wins on every peer', async () => {
    const { log, laptop, gs, clock } = await setup()
    const { fresh, nonce, approvals } = await request(log, gs.slice(1, 4))
    const rec = await log.append(
      fresh,
      { kind: 'recover', name: 'n', x25519: fresh.x25519PublicKey, nonce, approvals },
      { time: T0 + 1000 },
    )
    // Two peers: one sees the laptop's veto, the other the new device's completion.
    const withVeto = replica(log, { now: () => T0 + 10 * DELAY })
    const withCompletion = replica(log, { now: () => T0 + 10 * DELAY })
    await withVeto.append(laptop, { kind: 'veto', recovery: rec.cid }, { time: T0 + 5000 })
    clock.set(T0 + 10 * DELAY)
    await withCompletion.append(fresh, { kind: 'completeRecovery', recovery: rec.cid }, { time: T0 + 1000 + DELAY })
    assert.deepEqual(
      withCompletion.state().devices.map((d) => d.peerId),
      [fresh.peerId],
    )
    pull(withVeto, withCompletion)
    pull(withCompletion, withVeto)
    for (const l of [withVeto, withCompletion]) {
      assert.equal(l.state().recovery?.state, 'vetoed')
      assert.deepEqual(
        l.state().devices.map((d) => d.peerId),
        [laptop.peerId],
      )
    }
    assert.deepEqual(withVeto.state(), withCompletion.state())
    // A late veto (after the due time) does not count.
    const { log: log2, laptop: laptop2, gs: gs2 } = await setup()
    const r2 = await request(log2, gs2.slice(0, 3))
    const rec2 = await log2.append(
      r2.fresh,
      { kind: 'recover', name: 'n', x25519: r2.fresh.x25519PublicKey, nonce: r2.nonce, approvals: r2.approvals },
      { time: T0 + 1000 },
    )
    await assert.rejects(
      log2.append(laptop2, { kind: 'veto', recovery: rec2.cid }, { time: T0 + 2000 + DELAY }),
      /after the recovery was due/,
    )
  })

  it('a change of guardians waits for the delay; new guardians cannot recover before it', async () => {
    const { log, laptop, key, gs } = await setup()
    const newcomers = guardians(3, 'bafynewcomer')
    await setGuardians(log, laptop, newcomers, 2, key, T0 + 1000)
    const state = log.state()
    assert.equal(state.guardians.current?.guardians.length, 5, 'the old set is still in force')
    assert.equal(state.guardians.pending?.effectiveAt, T0 + 1000 + DELAY)
    const early = await request(log, newcomers.slice(0, 2))
    await assert.rejects(
      log.append(
        early.fresh,
        {
          kind: 'recover',
          name: 'x',
          x25519: early.fresh.x25519PublicKey,
          nonce: early.nonce,
          approvals: early.approvals,
        },
        { time: T0 + 2000 },
      ),
      /not a guardian in force/,
    )
    // After the delay the new set is in force.
    const late = await request(log, newcomers.slice(0, 2))
    await log.append(
      late.fresh,
      { kind: 'recover', name: 'x', x25519: late.fresh.x25519PublicKey, nonce: late.nonce, approvals: late.approvals },
      { time: T0 + 2000 + DELAY },
    )
    assert.equal(log.state().recovery?.state, 'pending')
    void gs
  })

  it('the backup: shares open on their guardian, rebuild the key; a tampered share is named and left out', async () => {
    const { log, key, gs, set } = await setup()
    const entry = set.entry
    assert.equal(entry.kind, 'setGuardians')
    if (entry.kind !== 'setGuardians') return
    const epoch = entry.payload.epoch
    const released = gs.slice(0, 4).map((g, index) => {
      const sealed = entry.payload.shares.find((s) => s.guardian === index) as (typeof entry.payload.shares)[number]
      return { index, from: g.identity, share: openShare(sealed, g.device, { identity: log.id, epoch, index }) }
    })
    const rebuilt = await combineShares(released.slice(0, 3), entry.payload.digests, 3, log.id, epoch)
    assert.deepEqual(rebuilt.key, key)
    const tampered = released.map((r, i) =>
      i === 0 ? { ...r, share: r.share.map((b, j) => (j === 3 ? b ^ 1 : b)) } : r,
    )
    const despite = await combineShares(tampered, entry.payload.digests, 3, log.id, epoch)
    assert.deepEqual(despite.key, key, 'rebuilt from the honest ones')
    assert.deepEqual(
      despite.refused.map((r) => r.from),
      [gs[0]?.identity],
    )
    assert.match(despite.refused[0]?.reason ?? '', /does not match the digest/)
    await assert.rejects(
      combineShares(tampered.slice(0, 3), entry.payload.digests, 3, log.id, epoch),
      /2 valid share\(s\), 3 needed; refused: bafyguardian/,
    )
    // A share does not open on another guardian's device.
    assert.throws(
      () =>
        openShare(entry.payload.shares[0] as never, gs[1]?.device as DeviceSigner, {
          identity: log.id,
          epoch,
          index: 0,
        }),
      /does not open/,
    )
  })
})
