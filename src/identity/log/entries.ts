/**
 * The identity log's entries (schemas/identity.cddl, docs/protocols/identity.md): one signed
 * record type per kind, the payload types, and their validators. Every entry but the genesis
 * names its identity, the heads its writer saw (`prev`), the writing device and that device's
 * sequence number; the device's key signs the record.
 */
import type { CID } from 'multiformats/cid'
import { IDENTITY_MAX_DEVICES, IDENTITY_NAME_MAX_CHARS, IDENTITY_REASON_MAX_CHARS } from '../../core/constants.ts'
import { InvalidInputError } from '../../core/errors.ts'
import {
  bytesField,
  exactMap,
  type Fields,
  peerIdField,
  prevField,
  textField,
  uintField,
  x25519Field,
} from './fields.ts'
import {
  type CompleteRecoveryPayload,
  type RecoverPayload,
  type SetGuardiansPayload,
  type VetoPayload,
  validateCompleteRecovery,
  validateRecover,
  validateSetGuardians,
  validateVeto,
} from './recovery-entries.ts'

/** Type tags of the signed records of the identity log. */
export const ENTRY_TYPES = {
  genesis: 'lateral/identity/genesis@1',
  addDevice: 'lateral/identity/addDevice@1',
  removeDevice: 'lateral/identity/removeDevice@1',
  rotateDataKey: 'lateral/identity/rotateDataKey@1',
  setProfile: 'lateral/identity/setProfile@1',
  setGuardians: 'lateral/identity/setGuardians@1',
  recover: 'lateral/identity/recover@1',
  veto: 'lateral/identity/veto@1',
  completeRecovery: 'lateral/identity/completeRecovery@1',
} as const
/** The type tag of a join record: signed by a new device, embedded in the addDevice that adds it. */
export const JOIN_TYPE = 'lateral/identity/join@1'

export type EntryKind = keyof typeof ENTRY_TYPES

export const NONCE_BYTES = 16
/** A sealed 32-byte data key: ciphertext and Poly1305 tag. */
export const SEALED_KEY_BYTES = 48

/** The first entry: the first device, by itself. Its CID is the identity ID. */
export interface GenesisPayload {
  /** Peer ID of the first device, whose key signs the genesis. */
  device: string
  /** The device's name, as the person calls it ("laptop"). */
  name: string
  /** The device's X25519 public key: the data key is sealed to it. */
  x25519: Uint8Array
  /** The display name others see, if given at creation. */
  profile?: string
  /** The writer's clock, ms since the Unix epoch: shown, never used to order or merge. */
  time: number
  /** Random: two identities made by one device at one millisecond still differ. */
  nonce: Uint8Array
}

/** Signed by the device that joins: proof that it agreed to join this identity, with this key. */
export interface JoinPayload {
  identity: string
  device: string
  name: string
  x25519: Uint8Array
  nonce: Uint8Array
}

/** Fields of every entry but the genesis. */
export interface EntryCommon {
  /** The identity ID (CID of the genesis). */
  identity: string
  /** CIDs of the heads the writer saw, 1..8, sorted by their string form. */
  prev: CID[]
  /** Peer ID of the writing device; its key signs the entry. */
  device: string
  /** The writing device's own sequence number: 1 + the highest of its entries in `prev`'s past. */
  seq: number
  time: number
}

export interface AddDevicePayload extends EntryCommon {
  /** The join record's bytes, signed by the added device. */
  join: Uint8Array
}

export interface RemoveDevicePayload extends EntryCommon {
  /** The removed device. */
  target: string
  /** The person said the device was lost (or stolen), not just retired. */
  lost: boolean
  reason: string
}

/** The data key sealed to one device: X25519 with an ephemeral key, HKDF-SHA256, XChaCha20-Poly1305. */
export interface SealedDataKey {
  device: string
  eph: Uint8Array
  nonce: Uint8Array
  ct: Uint8Array
}

export interface RotateDataKeyPayload extends EntryCommon {
  /** 1 + the epoch it replaces (the first key is epoch 1). */
  epoch: number
  /** One copy per current device, sorted by device peer ID. */
  sealed: SealedDataKey[]
}

/**
 * The whole profile, replacing the previous one: the display name and the identity's mailboxes
 * (peers that hold its direct messages while none of its devices is reachable). A field left
 * out is cleared (an empty profile clears both).
 */
export interface SetProfilePayload extends EntryCommon {
  /** The display name. */
  name?: string
  /** Peer IDs of its mailbox peers, sorted, at most IDENTITY_MAX_MAILBOXES. */
  mailboxes?: string[]
}

/** Mailbox peers a profile names at most. */
export const IDENTITY_MAX_MAILBOXES = 8

export interface PayloadOf {
  genesis: GenesisPayload
  addDevice: AddDevicePayload
  removeDevice: RemoveDevicePayload
  rotateDataKey: RotateDataKeyPayload
  setProfile: SetProfilePayload
  setGuardians: SetGuardiansPayload
  recover: RecoverPayload
  veto: VetoPayload
  completeRecovery: CompleteRecoveryPayload
}

const COMMON = ['identity', 'prev', 'device', 'seq', 'time']

function common(m: Fields): EntryCommon {
  if (typeof m.identity !== 'string' || m.identity.length > 128) throw new InvalidInputError('bad "identity"')
  return {
    identity: m.identity,
    prev: prevField(m.prev).cids,
    device: peerIdField(m.device, '"device"'),
    seq: uintField(m.seq, '"seq"', 1),
    time: uintField(m.time, '"time"'),
  }
}

const name = (v: unknown, what = '"name"') => textField(v, what, 1, IDENTITY_NAME_MAX_CHARS)

export function validateGenesis(value: unknown): GenesisPayload {
  const m = exactMap(value, ['device', 'name', 'x25519', 'time', 'nonce'], ['profile'], 'genesis')
  const payload: GenesisPayload = {
    device: peerIdField(m.device, '"device"'),
    name: name(m.name),
    x25519: x25519Field(m.x25519, '"x25519"'),
    time: uintField(m.time, '"time"'),
    nonce: bytesField(m.nonce, '"nonce"', NONCE_BYTES),
  }
  if (m.profile !== undefined) payload.profile = name(m.profile, '"profile"')
  return payload
}

export function validateJoin(value: unknown): JoinPayload {
  const m = exactMap(value, ['identity', 'device', 'name', 'x25519', 'nonce'], [], 'join record')
  if (typeof m.identity !== 'string' || m.identity.length > 128) throw new InvalidInputError('bad join "identity"')
  return {
    identity: m.identity,
    device: peerIdField(m.device, 'join "device"'),
    name: name(m.name, 'join "name"'),
    x25519: x25519Field(m.x25519, 'join "x25519"'),
    nonce: bytesField(m.nonce, 'join "nonce"', NONCE_BYTES),
  }
}

export function validateAddDevice(value: unknown): AddDevicePayload {
  const m = exactMap(value, [...COMMON, 'join'], [], 'addDevice')
  if (!(m.join instanceof Uint8Array)) throw new InvalidInputError('"join" is not bytes')
  return { ...common(m), join: m.join }
}

export function validateRemoveDevice(value: unknown): RemoveDevicePayload {
  const m = exactMap(value, [...COMMON, 'target', 'lost', 'reason'], [], 'removeDevice')
  if (typeof m.lost !== 'boolean') throw new InvalidInputError('"lost" is not a boolean')
  return {
    ...common(m),
    target: peerIdField(m.target, '"target"'),
    lost: m.lost,
    reason: textField(m.reason, '"reason"', 0, IDENTITY_REASON_MAX_CHARS),
  }
}

export function validateRotateDataKey(value: unknown): RotateDataKeyPayload {
  const m = exactMap(value, [...COMMON, 'epoch', 'sealed'], [], 'rotateDataKey')
  if (!Array.isArray(m.sealed) || m.sealed.length === 0 || m.sealed.length > IDENTITY_MAX_DEVICES) {
    throw new InvalidInputError(`"sealed" must hold 1 to ${IDENTITY_MAX_DEVICES} copies`)
  }
  const sealed = m.sealed.map((s): SealedDataKey => {
    const c = exactMap(s, ['device', 'eph', 'nonce', 'ct'], [], 'a sealed copy')
    return {
      device: peerIdField(c.device, 'a sealed copy\'s "device"'),
      eph: bytesField(c.eph, 'a sealed copy\'s "eph"', 32),
      nonce: bytesField(c.nonce, 'a sealed copy\'s "nonce"', 24),
      ct: bytesField(c.ct, 'a sealed copy\'s "ct"', SEALED_KEY_BYTES),
    }
  })
  for (let i = 1; i < sealed.length; i++) {
    if ((sealed[i - 1] as SealedDataKey).device >= (sealed[i] as SealedDataKey).device) {
      throw new InvalidInputError('"sealed" must be sorted by device, one copy each')
    }
  }
  return { ...common(m), epoch: uintField(m.epoch, '"epoch"', 1), sealed }
}

export function validateSetProfile(value: unknown): SetProfilePayload {
  const m = exactMap(value, COMMON, ['name', 'mailboxes'], 'setProfile')
  const out: SetProfilePayload = common(m)
  if (m.name !== undefined) out.name = name(m.name)
  if (m.mailboxes !== undefined) {
    if (!Array.isArray(m.mailboxes) || m.mailboxes.length === 0 || m.mailboxes.length > IDENTITY_MAX_MAILBOXES) {
      throw new InvalidInputError(`"mailboxes" names 1..${IDENTITY_MAX_MAILBOXES} peers`)
    }
    const peers = m.mailboxes.map((p) => peerIdField(p, 'a mailbox'))
    for (let i = 1; i < peers.length; i++) {
      if ((peers[i - 1] as string) >= (peers[i] as string))
        throw new InvalidInputError('"mailboxes" must be sorted, no duplicates')
    }
    out.mailboxes = peers
  }
  return out
}

export const VALIDATORS: { [K in EntryKind]: (value: unknown) => PayloadOf[K] } = {
  genesis: validateGenesis,
  addDevice: validateAddDevice,
  removeDevice: validateRemoveDevice,
  rotateDataKey: validateRotateDataKey,
  setProfile: validateSetProfile,
  setGuardians: (v) => validateSetGuardians(v, common),
  recover: (v) => validateRecover(v, common),
  veto: (v) => validateVeto(v, common),
  completeRecovery: (v) => validateCompleteRecovery(v, common),
}
