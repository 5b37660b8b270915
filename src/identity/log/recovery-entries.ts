/**
 * The identity log's recovery entries (docs/protocols/recovery.md): the guardian set with the
 * data key's backup shares, a recovery carrying the guardians' approvals, a veto, and the
 * completion that makes the new device the identity's only device. Also the approval record a
 * guardian's device signs.
 */
import type { CID } from 'multiformats/cid'
import { InvalidInputError } from '../../core/errors.ts'
import { signRecord, verifyRecord } from '../../core/signed-record.ts'
import { publicKeyFromPeerId, type Signer } from '../../core/signer.ts'
import type { EntryCommon } from './entries.ts'
import {
  bytesField,
  exactMap,
  type Fields,
  peerIdField,
  recordCidField,
  textField,
  uintField,
  x25519Field,
} from './fields.ts'

/** Guardians a set names at most. */
export const IDENTITY_MAX_GUARDIANS = 8
/** Devices of one guardian a set seals a share to at most. */
export const GUARDIAN_MAX_DEVICES = 4
/** The shortest recovery delay the protocol accepts, ms (a node's own floor is a setting). */
export const RECOVERY_MIN_DELAY_MS = 1_000
/** The longest, ms (a year). */
export const RECOVERY_MAX_DELAY_MS = 365 * 86_400_000
/** A Shamir share of a 32-byte key: 32 bytes and its x-coordinate. */
export const SHARE_BYTES = 33
/** A sealed share: ciphertext and Poly1305 tag. */
export const SEALED_SHARE_BYTES = SHARE_BYTES + 16
/** Approvals a recovery carries at most, and the bytes of one. */
export const MAX_APPROVALS = IDENTITY_MAX_GUARDIANS
export const APPROVAL_MAX_BYTES = 1024
export const APPROVAL_TYPE = 'lateral/recovery/approval@1'
export const REQUEST_NONCE_BYTES = 16

export interface Guardian {
  /** The guardian's identity ID. */
  identity: string
  /** Its devices whose approvals count, and to which its share is sealed; sorted. */
  devices: string[]
}

/** One guardian's share, sealed to one of its devices (like a data key copy, data-key.ts). */
export interface SealedShare {
  /** Index of the guardian in `guardians`. */
  guardian: number
  device: string
  eph: Uint8Array
  nonce: Uint8Array
  ct: Uint8Array
}

export interface SetGuardiansPayload extends EntryCommon {
  /** Sorted by identity, 1..IDENTITY_MAX_GUARDIANS. */
  guardians: Guardian[]
  /** Approvals of distinct guardians a recovery needs. */
  threshold: number
  /** How long a recovery waits for a veto, and a change of this set before it takes effect, ms. */
  delay: number
  /** The data key epoch the shares rebuild; 0 when the set carries no backup. */
  epoch: number
  /** Per guardian, SHA-256 binding its share to the identity, epoch and index (shares.ts). */
  digests: Uint8Array[]
  /** Each guardian's share sealed to each of its devices, sorted by (guardian, device). */
  shares: SealedShare[]
}

export interface RecoverPayload extends EntryCommon {
  /** The new device's name, and its X25519 key (the data key will be sealed to it). */
  name: string
  x25519: Uint8Array
  /** The request's nonce: approvals name it, so they count for this request only. */
  nonce: Uint8Array
  /** Approval records signed by guardians' devices. */
  approvals: Uint8Array[]
}

export interface VetoPayload extends EntryCommon {
  /** CID of the recovery entry vetoed. */
  recovery: CID
}

export interface CompleteRecoveryPayload extends EntryCommon {
  /** CID of the recovery entry completed. */
  recovery: CID
}

/** What a guardian's device signs: it approves this new device for this identity, for this request. */
export interface ApprovalPayload {
  identity: string
  /** The new device. */
  device: string
  x25519: Uint8Array
  nonce: Uint8Array
  /** The guardian's identity, and its device that signs. */
  guardian: string
  by: string
  time: number
}

const COMMON = ['identity', 'prev', 'device', 'seq', 'time']

export function validateSetGuardians(value: unknown, common: (m: Fields) => EntryCommon): SetGuardiansPayload {
  const m = exactMap(
    value,
    [...COMMON, 'guardians', 'threshold', 'delay', 'epoch', 'digests', 'shares'],
    [],
    'setGuardians',
  )
  if (!Array.isArray(m.guardians) || m.guardians.length === 0 || m.guardians.length > IDENTITY_MAX_GUARDIANS) {
    throw new InvalidInputError(`"guardians" names 1 to ${IDENTITY_MAX_GUARDIANS} identities`)
  }
  const guardians = m.guardians.map((g): Guardian => {
    const f = exactMap(g, ['identity', 'devices'], [], 'a guardian')
    const identity = textField(f.identity, 'a guardian\'s "identity"', 1, 128)
    if (!Array.isArray(f.devices) || f.devices.length === 0 || f.devices.length > GUARDIAN_MAX_DEVICES) {
      throw new InvalidInputError(`a guardian has 1 to ${GUARDIAN_MAX_DEVICES} devices`)
    }
    const devices = f.devices.map((d) => peerIdField(d, 'a guardian device'))
    sortedUnique(devices, "a guardian's devices")
    return { identity, devices }
  })
  sortedUnique(
    guardians.map((g) => g.identity),
    '"guardians"',
  )
  const threshold = uintField(m.threshold, '"threshold"', 1)
  if (threshold > guardians.length) throw new InvalidInputError('"threshold" is more than the guardians')
  const delay = uintField(m.delay, '"delay"', RECOVERY_MIN_DELAY_MS)
  if (delay > RECOVERY_MAX_DELAY_MS) throw new InvalidInputError('"delay" is longer than a year')
  const epoch = uintField(m.epoch, '"epoch"')
  if (!Array.isArray(m.digests) || m.digests.length !== (epoch === 0 ? 0 : guardians.length)) {
    throw new InvalidInputError('"digests" holds one digest per guardian (none without a backup)')
  }
  const digests = m.digests.map((d) => bytesField(d, 'a share digest', 32))
  const expected = epoch === 0 ? 0 : guardians.reduce((n, g) => n + g.devices.length, 0)
  if (!Array.isArray(m.shares) || m.shares.length !== expected) {
    throw new InvalidInputError('"shares" holds one sealed share per guardian\'s device')
  }
  let i = 0
  const shares = m.shares.map((s): SealedShare => {
    const f = exactMap(s, ['guardian', 'device', 'eph', 'nonce', 'ct'], [], 'a sealed share')
    const share: SealedShare = {
      guardian: uintField(f.guardian, 'a share\'s "guardian"'),
      device: peerIdField(f.device, 'a share\'s "device"'),
      eph: bytesField(f.eph, 'a share\'s "eph"', 32),
      nonce: bytesField(f.nonce, 'a share\'s "nonce"', 24),
      ct: bytesField(f.ct, 'a share\'s "ct"', SEALED_SHARE_BYTES),
    }
    return share
  })
  // In order: guardian 0's devices, then guardian 1's, ... exactly as listed.
  for (const [g, guardian] of guardians.entries()) {
    if (epoch === 0) break
    for (const device of guardian.devices) {
      const s = shares[i++] as SealedShare
      if (s.guardian !== g || s.device !== device) {
        throw new InvalidInputError('"shares" must follow the guardians and their devices, one each')
      }
    }
  }
  return { ...common(m), guardians, threshold, delay, epoch, digests, shares }
}

export function validateRecover(value: unknown, common: (m: Fields) => EntryCommon): RecoverPayload {
  const m = exactMap(value, [...COMMON, 'name', 'x25519', 'nonce', 'approvals'], [], 'recover')
  if (!Array.isArray(m.approvals) || m.approvals.length === 0 || m.approvals.length > MAX_APPROVALS) {
    throw new InvalidInputError(`"approvals" holds 1 to ${MAX_APPROVALS} records`)
  }
  const approvals = m.approvals.map((a) => {
    if (!(a instanceof Uint8Array) || a.length > APPROVAL_MAX_BYTES) throw new InvalidInputError('bad approval')
    return a
  })
  return {
    ...common(m),
    name: textField(m.name, '"name"', 1, 64),
    x25519: x25519Field(m.x25519, '"x25519"'),
    nonce: bytesField(m.nonce, '"nonce"', REQUEST_NONCE_BYTES),
    approvals,
  }
}

export function validateVeto(value: unknown, common: (m: Fields) => EntryCommon): VetoPayload {
  const m = exactMap(value, [...COMMON, 'recovery'], [], 'veto')
  return { ...common(m), recovery: recordCidField(m.recovery, '"recovery"') }
}

export function validateCompleteRecovery(value: unknown, common: (m: Fields) => EntryCommon): CompleteRecoveryPayload {
  const m = exactMap(value, [...COMMON, 'recovery'], [], 'completeRecovery')
  return { ...common(m), recovery: recordCidField(m.recovery, '"recovery"') }
}

function validateApproval(value: unknown): ApprovalPayload {
  const m = exactMap(value, ['identity', 'device', 'x25519', 'nonce', 'guardian', 'by', 'time'], [], 'approval')
  return {
    identity: textField(m.identity, 'approval "identity"', 1, 128),
    device: peerIdField(m.device, 'approval "device"'),
    x25519: bytesField(m.x25519, 'approval "x25519"', 32),
    nonce: bytesField(m.nonce, 'approval "nonce"', REQUEST_NONCE_BYTES),
    guardian: textField(m.guardian, 'approval "guardian"', 1, 128),
    by: peerIdField(m.by, 'approval "by"'),
    time: uintField(m.time, 'approval "time"'),
  }
}

/** A guardian's device approves a request. */
export async function signApproval(signer: Signer, approval: Omit<ApprovalPayload, 'by'>): Promise<Uint8Array> {
  return (await signRecord(signer, { ...approval, by: signer.peerId }, { type: APPROVAL_TYPE })).bytes
}

/** Verify an approval's shape and its signature by `by`; InvalidInputError otherwise. */
export function verifyApproval(bytes: Uint8Array): ApprovalPayload {
  return verifyRecord(bytes, {
    maxBytes: APPROVAL_MAX_BYTES,
    type: APPROVAL_TYPE,
    validate: validateApproval,
    publicKeyOf: (p) => publicKeyFromPeerId(p.by),
  }).payload
}

function sortedUnique(values: string[], what: string): void {
  for (let i = 1; i < values.length; i++) {
    if ((values[i - 1] as string) >= (values[i] as string))
      throw new InvalidInputError(`${what} must be sorted, no duplicates`)
  }
}
