/**
 * The rules of the recovery entries (docs/protocols/recovery.md), beside the other kinds' in
 * rules.ts. Everything here depends on the entries alone (their declared times included), so all
 * peers holding the same entries compute the same state; only "which set is in force now" and
 * "is a recovery due" are asked with the caller's clock.
 *
 * - setGuardians by a current device: the first set is in force at once; a set with other
 *   guardians, threshold or delay takes effect `delay` (of the set in force when it was written)
 *   after it was written, so a thief holding one device cannot swap the guardians quickly. A set
 *   naming the same guardians, threshold and delay (a new backup after a key rotation) counts at once.
 * - recover, by a device that is not (and never was) a device of the identity: approvals of at
 *   least `threshold` distinct guardians of the set in force at its time, each signed by a device
 *   that set lists for that guardian, each naming this identity, this device, its key and this
 *   request's nonce. One recovery is pending at a time.
 * - veto, by a current device, before the recovery's due time: the recovery never takes effect.
 * - completeRecovery, by the recovering device, at or after the due time, with the recovery in its
 *   past and no veto: every current device is removed and the new device is the only one.
 *   (merge.ts: a veto concurrent with a completion wins if it was signed before the due time;
 *   other entries of the replaced devices concurrent with the completion are void.)
 */
import type { HeldEntry } from './dag.ts'
import type { IdentityEntry } from './entry-codec.ts'
import { type Guardian, type SealedShare, verifyApproval } from './recovery-entries.ts'

export interface GuardianSetState {
  /** CID of the setGuardians entry. */
  entry: string
  time: number
  /** When it is (or was) in force from, ms. */
  effectiveAt: number
  guardians: Guardian[]
  threshold: number
  delay: number
  epoch: number
  digests: Uint8Array[]
  shares: SealedShare[]
}

export interface RecoveryState {
  /** CID of the recover entry. */
  entry: string
  held: HeldEntry
  device: string
  name: string
  x25519: Uint8Array
  startedAt: number
  /** When the recovery may be completed, unless vetoed before. */
  dueAt: number
  /** The guardians whose approvals counted. */
  approvedBy: string[]
  /** The set it was approved under. */
  set: string
  state: 'pending' | 'vetoed' | 'completed'
  /** For vetoed: the device and the veto entry. */
  vetoedBy?: { device: string; entry: string }
  /** For completed: the completion entry. */
  completedBy?: string
}

export interface RecoveryMergeState {
  devices: Map<string, unknown>
  removed: Map<string, unknown>
  guardianSets: GuardianSetState[]
  recovery?: RecoveryState
  id: string
}

/** The set in force at time `t`: the latest whose effective time has come. */
export function setInForce(sets: readonly GuardianSetState[], t: number): GuardianSetState | undefined {
  let found: GuardianSetState | undefined
  for (const s of sets) if (s.effectiveAt <= t) found = s
  return found
}

function sameSet(a: { guardians: Guardian[]; threshold: number; delay: number }, b: GuardianSetState): boolean {
  return (
    a.threshold === b.threshold &&
    a.delay === b.delay &&
    a.guardians.length === b.guardians.length &&
    a.guardians.every(
      (g, i) => g.identity === b.guardians[i]?.identity && g.devices.join() === b.guardians[i]?.devices.join(),
    )
  )
}

/** Why a recovery entry cannot take effect, or undefined. Not for other kinds. */
export function admitRecovery(
  state: RecoveryMergeState,
  held: HeldEntry,
  seen: (x: HeldEntry) => boolean,
): string | undefined {
  const { entry } = held
  switch (entry.kind) {
    case 'setGuardians': {
      if (!state.devices.has(entry.device)) return `signed by ${entry.device}, not a device of the identity`
      if (entry.payload.guardians.some((g) => g.identity === state.id)) return 'an identity cannot guard itself'
      return undefined
    }
    case 'recover': {
      const p = entry.payload
      if (state.devices.has(entry.device) || state.removed.has(entry.device)) {
        return `${entry.device} is or was a device of the identity: a recovery brings a new device`
      }
      if (state.recovery?.state === 'pending') return `recovery ${state.recovery.entry} is pending`
      const set = setInForce(state.guardianSets, entry.time)
      if (set === undefined) return 'the identity has no guardians'
      const approved = new Set<string>()
      for (const bytes of p.approvals) {
        let a: ReturnType<typeof verifyApproval>
        try {
          a = verifyApproval(bytes)
        } catch (err) {
          return `an approval does not verify: ${(err as Error).message}`
        }
        if (a.identity !== state.id) return `an approval is for identity ${a.identity}`
        if (a.device !== entry.device || !equal(a.x25519, p.x25519) || !equal(a.nonce, p.nonce)) {
          return 'an approval is for another request'
        }
        const guardian = set.guardians.find((g) => g.identity === a.guardian)
        if (guardian === undefined) return `an approval is by ${a.guardian}, not a guardian in force`
        if (!guardian.devices.includes(a.by))
          return `an approval is signed by ${a.by}, not a device of guardian ${a.guardian}`
        approved.add(a.guardian)
      }
      if (approved.size < set.threshold) {
        return `${approved.size} guardian(s) approved, ${set.threshold} needed`
      }
      return undefined
    }
    case 'veto': {
      if (!state.devices.has(entry.device)) return `signed by ${entry.device}, not a device of the identity`
      const r = state.recovery
      if (r === undefined || r.entry !== entry.payload.recovery.toString()) return 'vetoes no pending recovery'
      if (r.state !== 'pending') return `recovery ${r.entry} is ${r.state}`
      if (entry.time >= r.dueAt) return `signed after the recovery was due (${new Date(r.dueAt).toISOString()})`
      return undefined
    }
    case 'completeRecovery': {
      const r = state.recovery
      if (r === undefined || r.entry !== entry.payload.recovery.toString()) return 'completes no pending recovery'
      if (r.device !== entry.device) return `signed by ${entry.device}, not the recovering device`
      if (r.state !== 'pending') return `recovery ${r.entry} is ${r.state}`
      if (!seen(r.held)) return 'the recovery is not in its past'
      if (entry.time < r.dueAt) return `written before the recovery was due (${new Date(r.dueAt).toISOString()})`
      return undefined
    }
    default:
      return 'not a recovery entry'
  }
}

/** Apply an admitted recovery entry (the device changes of a completion are rules.ts's). */
export function applyRecovery(state: RecoveryMergeState, held: HeldEntry): void {
  const entry: IdentityEntry = held.entry
  switch (entry.kind) {
    case 'setGuardians': {
      const p = entry.payload
      const inForce = setInForce(state.guardianSets, entry.time)
      const effectiveAt = inForce === undefined || sameSet(p, inForce) ? entry.time : entry.time + inForce.delay
      state.guardianSets.push({
        entry: entry.cid,
        time: entry.time,
        effectiveAt,
        guardians: p.guardians,
        threshold: p.threshold,
        delay: p.delay,
        epoch: p.epoch,
        digests: p.digests,
        shares: p.shares,
      })
      break
    }
    case 'recover': {
      const p = entry.payload
      const set = setInForce(state.guardianSets, entry.time) as GuardianSetState
      const approvedBy = [...new Set(p.approvals.map((a) => verifyApproval(a).guardian))].sort()
      state.recovery = {
        entry: entry.cid,
        held,
        device: entry.device,
        name: p.name,
        x25519: p.x25519,
        startedAt: entry.time,
        dueAt: entry.time + set.delay,
        approvedBy,
        set: set.entry,
        state: 'pending',
      }
      break
    }
    case 'veto':
      if (state.recovery !== undefined) {
        state.recovery.state = 'vetoed'
        state.recovery.vetoedBy = { device: entry.device, entry: entry.cid }
      }
      break
    case 'completeRecovery':
      if (state.recovery !== undefined) {
        state.recovery.state = 'completed'
        state.recovery.completedBy = entry.cid
      }
      break
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
