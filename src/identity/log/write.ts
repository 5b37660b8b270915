/**
 * What a device asks to write (`EntryInput`), made into an entry payload: the common fields the
 * log chose (identity, prev, seq, time) plus the kind's own, with names normalised and, for a new
 * data key, one sealed copy per current device.
 */
import { CID } from 'multiformats/cid'
import { IdentityRuleError } from '../../core/errors.ts'
import { sealDataKey } from './data-key.ts'
import type { EntryCommon, EntryKind, PayloadOf } from './entries.ts'
import { normaliseName } from './fields.ts'
import type { Guardian, SealedShare } from './recovery-entries.ts'
import type { MergeState } from './rules.ts'

/** What a device writes; the log fills in identity, prev, seq and time. */
export type EntryInput =
  /** `join`: the join record the new device signed (createJoinRequest). */
  | { kind: 'addDevice'; join: Uint8Array }
  | { kind: 'removeDevice'; device: string; lost?: boolean; reason?: string }
  /** `dataKey`: the new 32-byte key (newDataKey()); the log seals it to each current device. */
  | { kind: 'rotateDataKey'; dataKey: Uint8Array }
  | { kind: 'setProfile'; name?: string; mailboxes?: string[] }
  /** Guardians sorted by identity; digests and shares from shares.ts `splitDataKey` (none for epoch 0). */
  | {
      kind: 'setGuardians'
      guardians: Guardian[]
      threshold: number
      delay: number
      epoch: number
      digests: Uint8Array[]
      shares: SealedShare[]
    }
  /** By the recovering device: its name and key, the request's nonce, the guardians' approvals. */
  | { kind: 'recover'; name: string; x25519: Uint8Array; nonce: Uint8Array; approvals: Uint8Array[] }
  | { kind: 'veto'; recovery: string }
  | { kind: 'completeRecovery'; recovery: string }

export type WritablePayload = { [K in Exclude<EntryKind, 'genesis'>]: { kind: K; payload: PayloadOf[K] } }[Exclude<
  EntryKind,
  'genesis'
>]

export function buildPayload(input: EntryInput, common: EntryCommon, state: MergeState): WritablePayload {
  switch (input.kind) {
    case 'addDevice':
      return { kind: 'addDevice', payload: { ...common, join: input.join } }
    case 'removeDevice': {
      const { device, lost, reason } = input
      return {
        kind: 'removeDevice',
        payload: { ...common, target: device, lost: lost === true, reason: normaliseName(reason ?? '') },
      }
    }
    case 'rotateDataKey': {
      const epoch = state.dataKey.epoch + 1
      const sealed = [...state.devices.values()]
        .map(({ record }) => record)
        .sort((a, b) => (a.peerId < b.peerId ? -1 : 1))
        .map((d) => sealDataKey(input.dataKey, d.x25519, { identity: common.identity, epoch, device: d.peerId }))
      return { kind: 'rotateDataKey', payload: { ...common, epoch, sealed } }
    }
    case 'setProfile':
      return {
        kind: 'setProfile',
        payload: {
          ...common,
          ...(input.name === undefined ? {} : { name: normaliseName(input.name) }),
          ...(input.mailboxes === undefined || input.mailboxes.length === 0
            ? {}
            : { mailboxes: [...new Set(input.mailboxes)].sort() }),
        },
      }
    case 'setGuardians': {
      const { kind: _k, ...fields } = input
      return { kind: 'setGuardians', payload: { ...common, ...fields } }
    }
    case 'recover': {
      const { kind: _k, ...fields } = input
      return { kind: 'recover', payload: { ...common, ...fields, name: normaliseName(fields.name) } }
    }
    case 'veto':
      return { kind: 'veto', payload: { ...common, recovery: CID.parse(input.recovery) } }
    case 'completeRecovery':
      return { kind: 'completeRecovery', payload: { ...common, recovery: CID.parse(input.recovery) } }
    default:
      throw new IdentityRuleError(`unknown entry kind ${JSON.stringify((input as { kind: unknown }).kind)}`)
  }
}
