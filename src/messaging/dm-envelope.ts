/**
 * Direct-message envelopes (docs/protocols/dm.md, schemas/dm.cddl): the message is a signed
 * record (core/signed-record.ts) of type `lateral/dm@1.0.0`, signed by the sender's device key,
 * then sealed to the recipient's X25519 key (the birational map of its Ed25519 device key) with
 * an ephemeral key, HKDF-SHA256 and XChaCha20-Poly1305. Only the recipient can open it; the
 * signature inside proves the sender to the recipient alone (no one else sees it).
 *
 *   envelope  = cbor { v: 2, to: <peer ID>, eph: <32 B X25519>, nonce: <24 B>, ct: <bytes> }
 *   plaintext = signed record [ sig, { h, "lateral/dm@1.0.0": DirectMessage } ]
 *   DirectMessage = { id, from, to, seq, time, type, body, ?heads: { id, heads } }
 */
import * as cbor from '@ipld/dag-cbor'
import {
  concatBytes,
  hkdfSha256,
  open,
  randomBytes,
  seal,
  x25519Keygen,
  x25519PublicFromEd25519,
  x25519Shared,
} from '../core/crypto.ts'
import { InvalidInputError } from '../core/errors.ts'
import { checkIdentityHeads, type IdentityHeads } from '../core/identities.ts'
import { signRecord, verifyRecord } from '../core/signed-record.ts'
import type { KeyAgreement, Signer } from '../core/signer.ts'
import { checkCommonFields, checkKeys } from './fields.ts'

export interface DirectMessage {
  /** Random ID, unique per message: deduplication and acknowledgement. */
  id: string
  from: string
  to: string
  /** Per (sender, recipient) sequence number, from 1. */
  seq: number
  time: number
  type: string
  body: Uint8Array
  /**
   * The sender's identity and its log's heads when the message was written: how a recipient
   * learns of a new device or a removal even where the heads topic does not reach.
   */
  heads?: IdentityHeads
}

export const DM_RECORD_TYPE = 'lateral/dm@1.0.0'
/** Envelope format version; 1 carried `{ msg, sig }` instead of a signed record. */
const ENVELOPE_VERSION = 2
const INFO = 'lateral/dm/2'
const ENVELOPE_KEYS = ['ct', 'eph', 'nonce', 'to', 'v']
const MSG_KEYS = ['body', 'from', 'id', 'seq', 'time', 'to', 'type']
const MSG_KEYS_WITH_HEADS = ['body', 'from', 'heads', 'id', 'seq', 'time', 'to', 'type']
/**
 * Bytes an envelope adds around the body at most: the signed record's fields (ID, two peer IDs,
 * content type, numbers, signature, header), the AEAD tag and the envelope's own fields.
 */
export const DM_ENVELOPE_OVERHEAD_BYTES = 4096

export function newMessageId(): string {
  return Buffer.from(randomBytes(16)).toString('hex')
}

/**
 * Sign `message` with the sender's `signer` and seal it to `recipientPublicKey` (the recipient's
 * Ed25519 device key). The recipient refuses it unless the signer's key is the key of `message.from`.
 */
export async function sealDirectMessage(
  message: DirectMessage,
  signer: Signer,
  recipientPublicKey: Uint8Array,
): Promise<Uint8Array> {
  const { id, from, to, seq, time, type, body, heads } = message
  const payload = { id, from, to, seq, time, type, body, ...(heads === undefined ? {} : { heads }) }
  const record = await signRecord(signer, payload, { type: DM_RECORD_TYPE })
  let recipientX: Uint8Array
  try {
    recipientX = x25519PublicFromEd25519(recipientPublicKey)
  } catch {
    throw new InvalidInputError(`the recipient ${to} has no usable Ed25519 key`)
  }
  const eph = x25519Keygen()
  const key = hkdfSha256(x25519Shared(eph.secret, recipientX), concatBytes(eph.publicKey, recipientX), INFO)
  const nonce = randomBytes(24)
  const aad = new TextEncoder().encode(to)
  return cbor.encode({
    v: ENVELOPE_VERSION,
    to,
    eph: eph.publicKey,
    nonce,
    ct: seal(key, nonce, record.bytes, aad),
  })
}

export interface OpenOptions {
  maxBodyBytes: number
  /** Clock for the skew check (tests; reading one's own outbox passes the far future). */
  now?: number
}

/**
 * Open an envelope addressed to `self` with its `keyAgreement`, verify the signed record inside
 * against the key of its `from` (`publicKeyOf`), and check every field. Throws
 * InvalidInputError naming what failed, and nothing else.
 */
export function openDirectMessage(
  bytes: Uint8Array,
  self: string,
  keyAgreement: KeyAgreement,
  publicKeyOf: (peerId: string) => Uint8Array,
  options: OpenOptions,
): DirectMessage {
  const maxEnvelope = options.maxBodyBytes + DM_ENVELOPE_OVERHEAD_BYTES
  if (bytes.length > maxEnvelope) throw new InvalidInputError(`envelope of ${bytes.length} bytes is too large`)
  const envelope = decodeMap(bytes, 'envelope')
  if (envelope.v !== ENVELOPE_VERSION) throw new InvalidInputError('unsupported envelope version')
  checkKeys(envelope, ENVELOPE_KEYS, 'envelope')
  if (envelope.to !== self) throw new InvalidInputError('envelope is addressed to another peer')
  const { eph, nonce, ct } = envelope
  if (!(eph instanceof Uint8Array) || eph.length !== 32) throw new InvalidInputError('bad envelope "eph"')
  if (!(nonce instanceof Uint8Array) || nonce.length !== 24) throw new InvalidInputError('bad envelope "nonce"')
  if (!(ct instanceof Uint8Array)) throw new InvalidInputError('bad envelope "ct"')
  const shared = keyAgreement.agree(eph)
  const key = hkdfSha256(shared, concatBytes(eph, keyAgreement.x25519PublicKey), INFO)
  const plaintext = open(key, nonce, ct, new TextEncoder().encode(self))
  if (plaintext === undefined) throw new InvalidInputError('envelope does not decrypt')
  const record = verifyRecord(plaintext, {
    maxBytes: maxEnvelope,
    type: DM_RECORD_TYPE,
    validate: (payload) => checkDirectMessage(payload, self, options),
    publicKeyOf: (m) => {
      try {
        return publicKeyOf(m.from)
      } catch {
        throw new InvalidInputError('message names a sender without an Ed25519 key')
      }
    },
  })
  return record.payload
}

function checkDirectMessage(value: unknown, self: string, options: OpenOptions): DirectMessage {
  if (!isPlainMap(value)) throw new InvalidInputError('message is not a map')
  const m = value
  checkKeys(m, 'heads' in m ? MSG_KEYS_WITH_HEADS : MSG_KEYS, 'message')
  if ('heads' in m) m.heads = checkIdentityHeads(m.heads)
  if (typeof m.id !== 'string' || !/^[0-9a-f]{32}$/.test(m.id)) throw new InvalidInputError('bad message "id"')
  if (typeof m.to !== 'string') throw new InvalidInputError('bad "to"')
  // Checked inside the signature too: a recipient cannot pass a message on as if sent to another.
  if (m.to !== self) throw new InvalidInputError('message is addressed to another peer')
  if (typeof m.seq !== 'number' || !Number.isSafeInteger(m.seq) || m.seq < 1) throw new InvalidInputError('bad "seq"')
  checkCommonFields(m, options.now)
  if ((m.body as Uint8Array).length > options.maxBodyBytes) throw new InvalidInputError('message body is too large')
  return m as unknown as DirectMessage
}

function decodeMap(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch {
    throw new InvalidInputError(`${what} is not DAG-CBOR`)
  }
  if (!isPlainMap(value)) throw new InvalidInputError(`${what} is not a map`)
  return value
}

function isPlainMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}
