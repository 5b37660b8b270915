/**
 * Receipts (docs/protocols/ledger.md, schemas/ledger.cddl): what two peers gave each other,
 * signed by both. A receipt is two halves, each a signed record (`lateral/receipt@1.0.0`) by one
 * device and an entry of that device's hash chain (its own `seq` and `prev`):
 *
 * - the **proposal**, by the peer that gave (it wants the credit): its cumulative counts with the
 *   counterparty for one kind of service;
 * - the **agreement**, by the counterparty: the same counts seen from its side (`out` and `in`
 *   swapped), the same kind and parties, and `link`, the proposal's CID.
 *
 * An agreement that does not mirror its proposal contradicts it: the pair is refused.
 */
import * as cbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { RECEIPT_MAX_BYTES } from '../core/constants.ts'
import { SERVICE_KINDS, type ServiceKind } from '../core/contribution.ts'
import { InvalidInputError } from '../core/errors.ts'
import { recordCid, type SignedRecord, signRecord, verifyRecord } from '../core/signed-record.ts'
import { publicKeyFromPeerId, type Signer } from '../core/signer.ts'

export const RECEIPT_TYPE = 'lateral/receipt@1.0.0'

/** One half of a receipt: an entry of its signer's chain. */
export interface ReceiptHalf {
  /** The signer: its device's peer ID. */
  dev: string
  /** The signer's identity, when it has one. */
  id?: string
  /** Position in the signer's chain, from 1. */
  seq: number
  /** CID of the signer's previous half; null for seq 1. */
  prev: CID | null
  /** The counterparty's device. */
  peer: string
  /** The counterparty's identity, as the signer knows it. */
  pid?: string
  kind: ServiceKind
  /** Bytes the signer gave the counterparty for this kind of service, in all (cumulative). */
  out: number
  /** Bytes the signer received from the counterparty for this kind, in all (cumulative). */
  in: number
  /** Bytes the signer holds for the counterparty now (storage kept, mail held). */
  held?: number
  /** When it was signed, ms since the epoch. */
  t: number
  /** In an agreement: the CID of the proposal it agrees to. */
  link?: CID
}

export type SignedHalf = SignedRecord<ReceiptHalf>

/** A complete receipt: a proposal and the agreement that mirrors it. */
export interface Receipt {
  proposal: SignedHalf
  agreement: SignedHalf
}

const REQUIRED = ['dev', 'seq', 'prev', 'peer', 'kind', 'out', 'in', 't']
const OPTIONAL = ['id', 'pid', 'held', 'link']
const MAX_ID_LENGTH = 128

export async function signHalf(signer: Signer, half: ReceiptHalf): Promise<SignedHalf> {
  if (half.dev !== signer.peerId) throw new InvalidInputError('a receipt half is signed by its own device')
  return signRecord(signer, withoutUndefined(half), { type: RECEIPT_TYPE })
}

/**
 * A half read without checking its signature (an Ed25519 check costs about 1.7 ms here): for one
 * this node verified before it stored it, or to see whose and where a half is before deciding
 * whether it is worth verifying. The shape is checked; anything else is InvalidInputError.
 */
export function readStoredHalf(bytes: Uint8Array): SignedHalf {
  let decoded: unknown
  try {
    decoded = cbor.decode(bytes)
  } catch {
    throw new InvalidInputError('a receipt half is not DAG-CBOR')
  }
  if (!Array.isArray(decoded) || decoded.length !== 2 || !(decoded[0] instanceof Uint8Array))
    throw new InvalidInputError('a receipt half is not a signed record')
  const [signature, sigPayload] = decoded as [Uint8Array, Record<string, unknown> | null]
  const payload = checkHalf(sigPayload?.[RECEIPT_TYPE])
  return {
    type: RECEIPT_TYPE,
    payload,
    signer: publicKeyFromPeerId(payload.dev),
    signature,
    bytes,
    cid: recordCid(bytes),
  }
}

/** Verify a half's envelope, shape and signature (by `dev`); InvalidInputError names what is wrong. */
export function verifyHalf(bytes: Uint8Array): SignedHalf {
  return verifyRecord(bytes, {
    maxBytes: RECEIPT_MAX_BYTES,
    type: RECEIPT_TYPE,
    validate: checkHalf,
    publicKeyOf: (h) => publicKeyFromPeerId(h.dev),
  })
}

/** Throws InvalidInputError when `agreement` does not mirror `proposal` exactly. */
export function checkAgreement(proposal: SignedHalf, agreement: SignedHalf): void {
  const p = proposal.payload
  const a = agreement.payload
  if (p.link !== undefined) throw new InvalidInputError('a proposal links to nothing')
  if (a.link === undefined || !a.link.equals(proposal.cid))
    throw new InvalidInputError('the agreement does not link to the proposal')
  if (a.dev !== p.peer || a.peer !== p.dev) throw new InvalidInputError('the agreement names other parties')
  if (a.kind !== p.kind) throw new InvalidInputError('the agreement is for another kind of service')
  if (a.out !== p.in || a.in !== p.out || a.held !== p.held)
    throw new InvalidInputError('the agreement contradicts the counts of the proposal')
  if ((p.pid !== undefined && a.id !== p.pid) || (a.pid !== undefined && p.id !== a.pid))
    throw new InvalidInputError('the halves name different identities')
}

/** Verify both halves and that they agree. */
export function verifyReceipt(proposal: Uint8Array, agreement: Uint8Array): Receipt {
  const p = verifyHalf(proposal)
  const a = verifyHalf(agreement)
  checkAgreement(p, a)
  return { proposal: p, agreement: a }
}

/** Whether a half is an agreement (it links to a proposal). */
export const isAgreement = (h: ReceiptHalf): boolean => h.link !== undefined

function checkHalf(value: unknown): ReceiptHalf {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array)
    throw new InvalidInputError('a receipt half is a map')
  const m = value as Record<string, unknown>
  for (const k of Object.keys(m))
    if (!REQUIRED.includes(k) && !OPTIONAL.includes(k)) throw new InvalidInputError(`receipt: unexpected "${k}"`)
  for (const k of REQUIRED) if (!(k in m)) throw new InvalidInputError(`receipt: "${k}" is missing`)
  const dev = peerIdField(m.dev, 'dev')
  const peer = peerIdField(m.peer, 'peer')
  if (dev === peer) throw new InvalidInputError('receipt: a device gives nothing to itself')
  const seq = uint(m.seq, 'seq')
  if (seq < 1) throw new InvalidInputError('receipt: "seq" starts at 1')
  const prev = m.prev === null ? null : cidField(m.prev, 'prev')
  if ((seq === 1) !== (prev === null)) throw new InvalidInputError('receipt: "prev" is null exactly at seq 1')
  if (typeof m.kind !== 'string' || !(SERVICE_KINDS as readonly string[]).includes(m.kind))
    throw new InvalidInputError('receipt: unknown "kind"')
  const half: ReceiptHalf = {
    dev,
    seq,
    prev,
    peer,
    kind: m.kind as ServiceKind,
    out: uint(m.out, 'out'),
    in: uint(m.in, 'in'),
    t: uint(m.t, 't'),
  }
  if (m.id !== undefined) half.id = idField(m.id, 'id')
  if (m.pid !== undefined) half.pid = idField(m.pid, 'pid')
  if (m.held !== undefined) half.held = uint(m.held, 'held')
  if (m.link !== undefined) half.link = cidField(m.link, 'link')
  return half
}

function peerIdField(v: unknown, name: string): string {
  if (typeof v !== 'string' || v.length > 64) throw new InvalidInputError(`receipt: "${name}" is not a peer ID`)
  publicKeyFromPeerId(v)
  return v
}

function idField(v: unknown, name: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_LENGTH)
    throw new InvalidInputError(`receipt: "${name}" is not an identity ID`)
  return v
}

function uint(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new InvalidInputError(`receipt: "${name}" is not a whole number`)
  return v
}

function cidField(v: unknown, name: string): CID {
  const cid = CID.asCID(v)
  if (cid === null) throw new InvalidInputError(`receipt: "${name}" is not a CID`)
  return cid
}

function withoutUndefined(half: ReceiptHalf): ReceiptHalf {
  return Object.fromEntries(Object.entries(half).filter(([, v]) => v !== undefined)) as unknown as ReceiptHalf
}
