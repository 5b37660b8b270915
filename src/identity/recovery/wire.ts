/**
 * `/lateral/recovery/1.0.0` (docs/protocols/recovery.md, "Wire"): one request frame, one answer
 * frame (varint length prefix, canonical DAG-CBOR, at most RECOVERY_FRAME_MAX_BYTES).
 *
 * ```
 * request = { t: "appoint", heads: { id, heads } }      ; a device of a person: "you guard this identity"
 *         / { t: "request", nonce: bytes .size 16 }     ; a guardian to the recovering device: show me your request
 *         / { t: "approve", approval: bytes }           ; a guardian's signed approval, to the recovering device
 *         / { t: "share", identity: tstr }              ; the recovered device to a guardian: release your share
 * answer  = { t: "ok" }
 *         / { t: "request", request: bytes }            ; the signed request record
 *         / { t: "share", index: uint, sealed: sealed-share }  ; the share sealed to the asking device
 *         / { t: "refused", error: tstr }
 * ```
 */
import * as cbor from '@ipld/dag-cbor'
import { InvalidInputError } from '../../core/errors.ts'
import { checkIdentityHeads, type IdentityHeads } from '../../core/identities.ts'
import { signRecord, verifyRecord } from '../../core/signed-record.ts'
import { publicKeyFromPeerId, type Signer } from '../../core/signer.ts'
import { bytesField, exactMap, peerIdField, textField, uintField, x25519Field } from '../log/fields.ts'
import { REQUEST_NONCE_BYTES, SEALED_SHARE_BYTES, type SealedShare } from '../log/recovery-entries.ts'

export const RECOVERY_PROTOCOL = '/lateral/recovery/1.0.0'
export const RECOVERY_FRAME_MAX_BYTES = 8 * 1024
export const REQUEST_TYPE = 'lateral/recovery/request@1'

export type RecoveryRequest =
  | { t: 'appoint'; heads: IdentityHeads }
  | { t: 'request'; nonce: Uint8Array }
  | { t: 'approve'; approval: Uint8Array }
  | { t: 'share'; identity: string }

export type RecoveryAnswer =
  | { t: 'ok' }
  | { t: 'request'; request: Uint8Array }
  | { t: 'share'; index: number; sealed: SealedShare }
  | { t: 'refused'; error: string }

/** What the recovering device asks for, signed by it; guardians approve it. */
export interface RequestPayload {
  identity: string
  device: string
  name: string
  x25519: Uint8Array
  nonce: Uint8Array
  time: number
}

export function encode(message: RecoveryRequest | RecoveryAnswer): Uint8Array {
  return cbor.encode(message)
}

function decodeMap(bytes: Uint8Array, what: string): Record<string, unknown> {
  if (bytes.length > RECOVERY_FRAME_MAX_BYTES) throw new InvalidInputError(`${what} is too large`)
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch {
    throw new InvalidInputError(`${what} is not DAG-CBOR`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new InvalidInputError(`${what} is not a map`)
  }
  return value as Record<string, unknown>
}

export function decodeRequest(bytes: Uint8Array): RecoveryRequest {
  const m = decodeMap(bytes, 'recovery request')
  switch (m.t) {
    case 'appoint':
      exactMap(m, ['t', 'heads'], [], 'appoint')
      return { t: 'appoint', heads: checkIdentityHeads(m.heads) }
    case 'request':
      exactMap(m, ['t', 'nonce'], [], 'request')
      return { t: 'request', nonce: bytesField(m.nonce, '"nonce"', REQUEST_NONCE_BYTES) }
    case 'approve':
      exactMap(m, ['t', 'approval'], [], 'approve')
      if (!(m.approval instanceof Uint8Array)) throw new InvalidInputError('"approval" is bytes')
      return { t: 'approve', approval: m.approval }
    case 'share':
      exactMap(m, ['t', 'identity'], [], 'share')
      return { t: 'share', identity: textField(m.identity, '"identity"', 1, 128) }
    default:
      throw new InvalidInputError('recovery request: unknown "t"')
  }
}

export function decodeAnswer(bytes: Uint8Array): RecoveryAnswer {
  const m = decodeMap(bytes, 'recovery answer')
  switch (m.t) {
    case 'ok':
      exactMap(m, ['t'], [], 'answer')
      return { t: 'ok' }
    case 'request':
      exactMap(m, ['t', 'request'], [], 'answer')
      if (!(m.request instanceof Uint8Array)) throw new InvalidInputError('"request" is bytes')
      return { t: 'request', request: m.request }
    case 'share': {
      exactMap(m, ['t', 'index', 'sealed'], [], 'answer')
      const s = exactMap(m.sealed, ['guardian', 'device', 'eph', 'nonce', 'ct'], [], 'sealed share')
      return {
        t: 'share',
        index: uintField(m.index, '"index"'),
        sealed: {
          guardian: uintField(s.guardian, '"guardian"'),
          device: peerIdField(s.device, '"device"'),
          eph: bytesField(s.eph, '"eph"', 32),
          nonce: bytesField(s.nonce, '"nonce"', 24),
          ct: bytesField(s.ct, '"ct"', SEALED_SHARE_BYTES),
        },
      }
    }
    case 'refused':
      exactMap(m, ['t', 'error'], [], 'answer')
      return { t: 'refused', error: textField(m.error, '"error"', 0, 1000) }
    default:
      throw new InvalidInputError('recovery answer: unknown "t"')
  }
}

export async function signRequest(signer: Signer, payload: Omit<RequestPayload, 'device'>): Promise<Uint8Array> {
  return (await signRecord(signer, { ...payload, device: signer.peerId }, { type: REQUEST_TYPE })).bytes
}

export function verifyRequest(bytes: Uint8Array): RequestPayload {
  return verifyRecord(bytes, {
    maxBytes: 1024,
    type: REQUEST_TYPE,
    validate: (value): RequestPayload => {
      const m = exactMap(value, ['identity', 'device', 'name', 'x25519', 'nonce', 'time'], [], 'recovery request')
      return {
        identity: textField(m.identity, '"identity"', 1, 128),
        device: peerIdField(m.device, '"device"'),
        name: textField(m.name, '"name"', 1, 64),
        x25519: x25519Field(m.x25519, '"x25519"'),
        nonce: bytesField(m.nonce, '"nonce"', REQUEST_NONCE_BYTES),
        time: uintField(m.time, '"time"'),
      }
    },
    publicKeyOf: (p) => publicKeyFromPeerId(p.device),
  }).payload
}
