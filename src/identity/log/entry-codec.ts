/**
 * Signing and verifying identity log entries and join records. An entry's kind is read from its
 * type tag, at the fixed place canonical DAG-CBOR puts it, and the record is then verified under
 * that one tag (core/signed-record.ts): nothing is returned before the signature checks, and the
 * join record inside an addDevice is verified as well, under the joining device's key.
 */
import { IDENTITY_JOIN_MAX_BYTES } from '../../core/constants.ts'
import { randomBytes } from '../../core/crypto.ts'
import { InvalidInputError } from '../../core/errors.ts'
import { signRecord, verifyRecord } from '../../core/signed-record.ts'
import { type KeyAgreement, publicKeyFromPeerId, type Signer } from '../../core/signer.ts'
import {
  type AddDevicePayload,
  ENTRY_TYPES,
  type EntryKind,
  type GenesisPayload,
  JOIN_TYPE,
  type JoinPayload,
  NONCE_BYTES,
  type PayloadOf,
  type RemoveDevicePayload,
  type RotateDataKeyPayload,
  type SetProfilePayload,
  VALIDATORS,
  validateJoin,
} from './entries.ts'
import { normaliseName } from './fields.ts'

interface EntryBase {
  /** The entry's ID: CID of its bytes. */
  cid: string
  /** The bytes as signed and received: store and send these. */
  bytes: Uint8Array
  /** The signing device. */
  device: string
  /** The device's sequence number (0 for the genesis). */
  seq: number
  time: number
  /** The parents' CIDs (none for the genesis). */
  prev: string[]
}

/** A verified entry of an identity log. */
export type IdentityEntry =
  | (EntryBase & { kind: 'genesis'; payload: GenesisPayload })
  | (EntryBase & { kind: 'addDevice'; payload: AddDevicePayload; joined: JoinPayload })
  | (EntryBase & { kind: 'removeDevice'; payload: RemoveDevicePayload })
  | (EntryBase & { kind: 'rotateDataKey'; payload: RotateDataKeyPayload })
  | (EntryBase & { kind: 'setProfile'; payload: SetProfilePayload })
  | (EntryBase & { kind: 'setGuardians'; payload: PayloadOf['setGuardians'] })
  | (EntryBase & { kind: 'recover'; payload: PayloadOf['recover'] })
  | (EntryBase & { kind: 'veto'; payload: PayloadOf['veto'] })
  | (EntryBase & { kind: 'completeRecovery'; payload: PayloadOf['completeRecovery'] })

const KIND_OF = new Map<string, EntryKind>(Object.entries(ENTRY_TYPES).map(([k, t]) => [t, k as EntryKind]))
/** Envelope prefix (3), signature (64), map header (1), "h" (2), header bytes (1 + 8). */
const TAG_OFFSET = 79

/**
 * The type tag, read where canonical DAG-CBOR puts it (the sig-payload map sorts "h" first), if
 * it is one of the log's. Only a hint for choosing the validator: verification checks it all.
 */
function peekKind(bytes: Uint8Array): EntryKind | undefined {
  const head = bytes[TAG_OFFSET]
  if (head === undefined) return undefined
  let start = TAG_OFFSET + 1
  let length = head - 0x60
  if (head === 0x78) {
    length = bytes[TAG_OFFSET + 1] ?? 0
    start++
  } else if (head < 0x60 || head > 0x77) {
    return undefined
  }
  if (start + length > bytes.length) return undefined
  return KIND_OF.get(Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('latin1'))
}

/** Verify entry bytes; throws InvalidInputError naming what is wrong, and nothing else. */
export function decodeEntry(bytes: Uint8Array, maxBytes: number): IdentityEntry {
  if (!(bytes instanceof Uint8Array)) throw new InvalidInputError('an identity log entry is bytes')
  if (bytes.length > maxBytes) {
    throw new InvalidInputError(`identity log entry of ${bytes.length} bytes exceeds the limit of ${maxBytes}`)
  }
  const kind = peekKind(bytes)
  if (kind === undefined) throw new InvalidInputError('not an identity log entry (unknown record type)')
  const record = verifyRecord<PayloadOf[typeof kind]>(bytes, {
    maxBytes,
    type: ENTRY_TYPES[kind],
    validate: VALIDATORS[kind],
    publicKeyOf: (p) => publicKeyFromPeerId(p.device),
  })
  const cid = record.cid.toString()
  const payload = record.payload
  if (kind === 'genesis') {
    const p = payload as GenesisPayload
    return { kind, cid, bytes, device: p.device, seq: 0, time: p.time, prev: [], payload: p }
  }
  const p = payload as PayloadOf['setProfile']
  const base = { cid, bytes, device: p.device, seq: p.seq, time: p.time, prev: p.prev.map((c) => c.toString()) }
  if (kind === 'addDevice') {
    const add = payload as AddDevicePayload
    return { ...base, kind, payload: add, joined: readJoinRequest(add.join) }
  }
  return { ...base, kind, payload } as IdentityEntry
}

/** Sign an entry payload of `kind` with the device's signer; returns the entry's bytes. */
export async function signEntry(signer: Signer, kind: EntryKind, payload: PayloadOf[EntryKind]): Promise<Uint8Array> {
  return (await signRecord(signer, payload, { type: ENTRY_TYPES[kind] })).bytes
}

export interface JoinRequestInit {
  /** The identity to join. */
  identity: string
  /** This device's name. */
  name: string
}

/**
 * On the device that joins: sign a join record naming the identity, this device, its name and
 * its X25519 key. A device of the identity embeds it in the addDevice entry it signs.
 */
export async function createJoinRequest(
  signer: Signer,
  x25519: KeyAgreement | Uint8Array,
  init: JoinRequestInit,
): Promise<Uint8Array> {
  const payload: JoinPayload = {
    identity: init.identity,
    device: signer.peerId,
    name: normaliseName(init.name),
    x25519: x25519 instanceof Uint8Array ? x25519 : x25519.x25519PublicKey,
    nonce: randomBytes(NONCE_BYTES),
  }
  validateJoin(payload)
  return (await signRecord(signer, payload, { type: JOIN_TYPE })).bytes
}

/** Verify a join record (signed by the device it names); throws InvalidInputError. */
export function readJoinRequest(bytes: Uint8Array): JoinPayload {
  try {
    return verifyRecord(bytes, {
      maxBytes: IDENTITY_JOIN_MAX_BYTES,
      type: JOIN_TYPE,
      validate: validateJoin,
      publicKeyOf: (p) => publicKeyFromPeerId(p.device),
    }).payload
  } catch (err) {
    throw new InvalidInputError(`join record refused: ${(err as Error).message}`)
  }
}
