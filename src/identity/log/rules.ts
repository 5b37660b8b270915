/**
 * The identity's state, and what each kind of entry needs of it to take effect: the rules that
 * depend on the merged state rather than on the entry's past alone (docs/protocols/identity.md,
 * "Merge"). The merge (merge.ts) applies entries in its order with `admit` and `apply`; writing an
 * entry (identity-log.ts) checks it with `admit` first, so a device never signs a void entry.
 */
import { IDENTITY_MAX_DEVICES } from '../../core/constants.ts'
import type { HeldEntry } from './dag.ts'
import type { SealedDataKey } from './entries.ts'
import {
  admitRecovery,
  applyRecovery,
  type GuardianSetState,
  type RecoveryState,
  setInForce,
} from './recovery-rules.ts'

/** A current device of the identity. */
export interface DeviceRecord {
  peerId: string
  name: string
  /** The X25519 public key the data key is sealed to. */
  x25519: Uint8Array
  /** `time` of the entry that added it (the genesis for the first device), ms since the Unix epoch. */
  addedAt: number
  /** The device that signed the addDevice (absent for the first device). */
  addedBy?: string
  /** CID of the entry that added it (the genesis for the first device). */
  entry: string
  /** Its latest entry that took effect (0: none since it was added). */
  seq: number
}

/** A device removed from the identity: its signatures are refused from then on. */
export interface RemovedDeviceRecord {
  peerId: string
  name: string
  /** `time` of the removal entry, ms since the Unix epoch. */
  at: number
  lost: boolean
  reason: string
  /** The device that signed the removal. */
  by: string
  /** CID of the removal entry. */
  entry: string
}

export interface DataKeyState {
  /** 0 until the first rotateDataKey. */
  epoch: number
  /** CID of the rotateDataKey entry of this epoch. */
  entry?: string
  /** The copies of this epoch's key, sorted by device. */
  sealed: SealedDataKey[]
  /** Current devices without a copy of this epoch's key (added since). */
  missing: string[]
  /** A device that holds this epoch's key was removed since: rotate. */
  stale: boolean
}

/** The identity as the log says, the same on every peer that holds the same entries. */
export interface IdentityState {
  /** The identity ID: CID of the genesis entry. */
  id: string
  /** The display name (the latest setProfile that took effect, or the genesis profile). */
  name?: string
  /** Peer IDs of the identity's mailboxes (the latest setProfile that took effect), sorted. */
  mailboxes: string[]
  /** Current devices, sorted by peer ID. */
  devices: DeviceRecord[]
  /** Removed devices, sorted by peer ID. */
  removed: RemovedDeviceRecord[]
  dataKey: DataKeyState
  /** The guardian set in force now, and a change waiting for its time (docs/protocols/recovery.md). */
  guardians: { current?: GuardianSetView; pending?: GuardianSetView }
  /** The latest recovery of this identity, if any. */
  recovery?: RecoveryView
  /** CIDs of the log's heads, sorted. */
  heads: string[]
  /** Entries held (those void included). */
  entries: number
}

/** The state while merging: maps, and for each device the entry that made it one. */
export interface MergeState {
  id: string
  name?: string
  mailboxes: string[]
  devices: Map<string, { record: DeviceRecord; since: HeldEntry }>
  /** Guardian sets in the order they took effect in the merge (recovery-rules.ts). */
  guardianSets: GuardianSetState[]
  /** The latest recovery, whatever its state. */
  recovery?: RecoveryState
  removed: Map<string, RemovedDeviceRecord>
  dataKey: { epoch: number; entry?: string; sealed: Map<string, SealedDataKey> }
}

export function initialState(genesis: HeldEntry): MergeState {
  const { entry } = genesis
  if (entry.kind !== 'genesis') throw new TypeError('not a genesis entry')
  const p = entry.payload
  const record: DeviceRecord = {
    peerId: p.device,
    name: p.name,
    x25519: p.x25519,
    addedAt: p.time,
    entry: entry.cid,
    seq: 0,
  }
  const state: MergeState = {
    id: entry.cid,
    devices: new Map([[p.device, { record, since: genesis }]]),
    removed: new Map(),
    dataKey: { epoch: 0, sealed: new Map() },
    mailboxes: [],
    guardianSets: [],
  }
  if (p.profile !== undefined) state.name = p.profile
  return state
}

/**
 * Why `held` cannot take effect in `state`, or undefined when it can. `seen(x)` says whether entry
 * `x` is in the past of `held` (the writer knew it).
 */
export function admit(state: MergeState, held: HeldEntry, seen: (x: HeldEntry) => boolean): string | undefined {
  const { entry } = held
  if (entry.kind === 'genesis') return 'a second genesis'
  // A recovering device is no device of the identity yet: its entries have rules of their own.
  if (entry.kind === 'recover' || entry.kind === 'completeRecovery') return admitRecovery(state, held, seen)
  const member = state.devices.get(entry.device)
  if (member === undefined) {
    return state.removed.has(entry.device)
      ? `signed by ${entry.device}, removed by ${state.removed.get(entry.device)?.entry}`
      : `signed by ${entry.device}, not a device of the identity`
  }
  if (!seen(member.since)) return `signed by ${entry.device}, whose addition ${member.since.entry.cid} it did not see`
  switch (entry.kind) {
    case 'addDevice': {
      const target = entry.joined.device
      if (state.devices.has(target)) return `adds ${target}, already a device`
      if (state.removed.has(target))
        return `adds ${target}, removed: a removed device cannot come back with the same key`
      if (state.devices.size >= IDENTITY_MAX_DEVICES)
        return `the identity has ${IDENTITY_MAX_DEVICES} devices, the most`
      return undefined
    }
    case 'removeDevice': {
      const target = entry.payload.target
      if (!state.devices.has(target)) return `removes ${target}, not a device`
      if (state.devices.size === 1) return `removes ${target}, the last device`
      return undefined
    }
    case 'rotateDataKey': {
      const p = entry.payload
      if (p.epoch !== state.dataKey.epoch + 1) return `epoch ${p.epoch} does not follow ${state.dataKey.epoch}`
      for (const copy of p.sealed) {
        if (!state.devices.has(copy.device)) return `seals the data key to ${copy.device}, not a device`
      }
      const sealedTo = new Set(p.sealed.map((c) => c.device))
      for (const [peerId, { since }] of state.devices) {
        if (seen(since) && !sealedTo.has(peerId)) return `leaves out device ${peerId}`
      }
      return undefined
    }
    case 'setProfile':
      return undefined
    case 'setGuardians':
    case 'veto':
      return admitRecovery(state, held, seen)
  }
}

/** Apply an admitted entry. */
export function apply(state: MergeState, held: HeldEntry): void {
  const { entry } = held
  const writer = state.devices.get(entry.device)
  if (writer !== undefined) writer.record.seq = entry.seq
  switch (entry.kind) {
    case 'addDevice': {
      const j = entry.joined
      const record: DeviceRecord = {
        peerId: j.device,
        name: j.name,
        x25519: j.x25519,
        addedAt: entry.time,
        addedBy: entry.device,
        entry: entry.cid,
        seq: 0,
      }
      state.devices.set(j.device, { record, since: held })
      break
    }
    case 'removeDevice': {
      const p = entry.payload
      const removed = state.devices.get(p.target)
      state.devices.delete(p.target)
      state.removed.set(p.target, {
        peerId: p.target,
        name: removed?.record.name ?? '',
        at: p.time,
        lost: p.lost,
        reason: p.reason,
        by: entry.device,
        entry: entry.cid,
      })
      break
    }
    case 'rotateDataKey':
      state.dataKey = {
        epoch: entry.payload.epoch,
        entry: entry.cid,
        sealed: new Map(entry.payload.sealed.map((c) => [c.device, c])),
      }
      break
    case 'completeRecovery': {
      // Every current device is replaced by the recovering one.
      const r = state.recovery as RecoveryState
      for (const [peerId, { record }] of state.devices) {
        state.removed.set(peerId, {
          peerId,
          name: record.name,
          at: entry.time,
          lost: true,
          reason: `replaced by recovery ${r.entry}`,
          by: entry.device,
          entry: entry.cid,
        })
      }
      state.devices.clear()
      const record: DeviceRecord = {
        peerId: r.device,
        name: r.name,
        x25519: r.x25519,
        addedAt: entry.time,
        entry: entry.cid,
        seq: entry.seq,
      }
      state.devices.set(r.device, { record, since: held })
      applyRecovery(state, held)
      break
    }
    case 'setGuardians':
    case 'recover':
    case 'veto':
      applyRecovery(state, held)
      break
    case 'setProfile':
      if (entry.payload.name === undefined) delete state.name
      else state.name = entry.payload.name
      state.mailboxes = [...(entry.payload.mailboxes ?? [])]
      break
    case 'genesis':
      break
  }
}

/** A copy of the state for callers: arrays sorted, nothing they can change shared with the log. */
export interface GuardianSetView {
  entry: string
  guardians: Array<{ identity: string; devices: string[] }>
  threshold: number
  delay: number
  /** When it is in force from, ms. */
  effectiveAt: number
  /** The data key epoch its shares rebuild (0: no backup). */
  epoch: number
}

export type RecoveryView = Omit<RecoveryState, 'held' | 'x25519'>

function setView(s: GuardianSetState): GuardianSetView {
  return {
    entry: s.entry,
    guardians: s.guardians.map((g) => ({ identity: g.identity, devices: [...g.devices] })),
    threshold: s.threshold,
    delay: s.delay,
    effectiveAt: s.effectiveAt,
    epoch: s.epoch,
  }
}

export function snapshot(state: MergeState, heads: string[], entries: number, now = Date.now()): IdentityState {
  const byPeer = <T extends { peerId: string }>(a: T, b: T) => (a.peerId < b.peerId ? -1 : 1)
  const devices = [...state.devices.values()]
    .map(({ record }) => ({ ...record, x25519: Uint8Array.from(record.x25519) }))
    .sort(byPeer)
  const sealed = [...state.dataKey.sealed.values()].sort((a, b) => (a.device < b.device ? -1 : 1))
  const dataKey: DataKeyState = {
    epoch: state.dataKey.epoch,
    sealed,
    missing: state.dataKey.epoch === 0 ? [] : devices.map((d) => d.peerId).filter((p) => !state.dataKey.sealed.has(p)),
    stale: sealed.some((c) => !state.devices.has(c.device)),
  }
  if (state.dataKey.entry !== undefined) dataKey.entry = state.dataKey.entry
  const out: IdentityState = {
    id: state.id,
    devices,
    removed: [...state.removed.values()].map((r) => ({ ...r })).sort(byPeer),
    dataKey,
    mailboxes: [...state.mailboxes],
    guardians: {},
    heads,
    entries,
  }
  const current = setInForce(state.guardianSets, now)
  if (current !== undefined) out.guardians.current = setView(current)
  const latest = state.guardianSets.at(-1)
  if (latest !== undefined && latest.effectiveAt > now) out.guardians.pending = setView(latest)
  if (state.recovery !== undefined) {
    const { held: _h, x25519: _x, ...view } = state.recovery
    out.recovery = { ...view, approvedBy: [...view.approvedBy] }
  }
  if (state.name !== undefined) out.name = state.name
  return out
}
