/**
 * Direct-message envelopes (docs/protocols/dm.md): signed by the sender's device key, then sealed
 * to the recipient's X25519 key (derived from its Ed25519 device key) with an ephemeral key,
 * HKDF-SHA256 and XChaCha20-Poly1305. Only the recipient can open one; the signature inside
 * proves the sender to the recipient alone (no one else sees it).
 *
 *   envelope  = cbor { v: 1, to: <peer ID>, eph: <32 B X25519>, nonce: <24 B>, ct: <bytes> }
 *   plaintext = cbor { msg: <bytes of cbor DirectMessage>, sig: <64 B Ed25519 over msg> }
 */
import * as cbor from '@ipld/dag-cbor'
import {
  concatBytes,
  ed25519Sign,
  ed25519Verify,
  hkdfSha256,
  open,
  randomBytes,
  seal,
  x25519FromEd25519,
  x25519Keygen,
  x25519PublicFromEd25519,
  x25519Shared,
} from '../core/crypto.ts'
import { InvalidInputError } from '../core/errors.ts'
import { checkCommonFields, checkKeys } from './fields.ts'

export interface DirectMessage {
  v: 1
  /** Random ID, unique per message: deduplication and acknowledgement. */
  id: string
  from: string
  to: string
  /** Per (sender, recipient) sequence number, from 1. */
  seq: number
  time: number
  type: string
  body: Uint8Array
}

const INFO = 'lateral/dm/1'
const MSG_KEYS = ['body', 'from', 'id', 'seq', 'time', 'to', 'type', 'v']

export function newMessageId(): string {
  return Buffer.from(randomBytes(16)).toString('hex')
}

/** Sign `message` with the sender's seed and seal it to `recipientPublicKey` (Ed25519). */
export function sealDirectMessage(
  message: DirectMessage,
  senderSeed: Uint8Array,
  recipientPublicKey: Uint8Array,
): Uint8Array {
  const msg = cbor.encode(message)
  const plaintext = cbor.encode({ msg, sig: ed25519Sign(senderSeed, msg) })
  const eph = x25519Keygen()
  const recipientX = x25519PublicFromEd25519(recipientPublicKey)
  const key = hkdfSha256(x25519Shared(eph.secret, recipientX), concatBytes(eph.publicKey, recipientX), INFO)
  const nonce = randomBytes(24)
  const aad = new TextEncoder().encode(message.to)
  return cbor.encode({ v: 1, to: message.to, eph: eph.publicKey, nonce, ct: seal(key, nonce, plaintext, aad) })
}

export interface OpenedEnvelope {
  message: DirectMessage
}

/**
 * Open an envelope addressed to `self` with `selfSeed`, check the sender's signature with
 * `publicKeyOf(message.from)`, and the message's fields. Throws InvalidInputError naming what failed.
 */
export function openDirectMessage(
  bytes: Uint8Array,
  self: string,
  selfSeed: Uint8Array,
  publicKeyOf: (peerId: string) => Uint8Array,
  options: { maxBodyBytes: number; now?: number },
): DirectMessage {
  const envelope = decodeMap(bytes, 'envelope')
  if (envelope.v !== 1) throw new InvalidInputError('unsupported envelope version')
  if (envelope.to !== self) throw new InvalidInputError('envelope is addressed to another peer')
  const { eph, nonce, ct } = envelope
  if (!(eph instanceof Uint8Array) || eph.length !== 32) throw new InvalidInputError('bad envelope "eph"')
  if (!(nonce instanceof Uint8Array) || nonce.length !== 24) throw new InvalidInputError('bad envelope "nonce"')
  if (!(ct instanceof Uint8Array)) throw new InvalidInputError('bad envelope "ct"')
  const mine = x25519FromEd25519(selfSeed)
  let shared: Uint8Array
  try {
    shared = x25519Shared(mine.secret, eph)
  } catch {
    throw new InvalidInputError('bad envelope "eph"')
  }
  const key = hkdfSha256(shared, concatBytes(eph, mine.publicKey), INFO)
  const plaintext = open(key, nonce, ct, new TextEncoder().encode(self))
  if (plaintext === undefined) throw new InvalidInputError('envelope does not decrypt')
  const inner = decodeMap(plaintext, 'sealed content')
  const { msg, sig } = inner
  if (!(msg instanceof Uint8Array) || !(sig instanceof Uint8Array) || sig.length !== 64) {
    throw new InvalidInputError('bad sealed content')
  }
  const message = checkDirectMessage(decodeMap(msg, 'message'), options)
  if (message.to !== self) throw new InvalidInputError('message is addressed to another peer')
  let senderKey: Uint8Array
  try {
    senderKey = publicKeyOf(message.from)
  } catch {
    throw new InvalidInputError('message names a sender without an Ed25519 key')
  }
  // The signature is checked over the bytes as received, never a re-encoding.
  if (!ed25519Verify(senderKey, msg, sig)) throw new InvalidInputError('signature does not match the claimed sender')
  return message
}

function checkDirectMessage(
  m: Record<string, unknown>,
  options: { maxBodyBytes: number; now?: number },
): DirectMessage {
  checkKeys(m, MSG_KEYS, 'message')
  if (m.v !== 1) throw new InvalidInputError('unsupported message version')
  if (typeof m.id !== 'string' || !/^[0-9a-f]{32}$/.test(m.id)) throw new InvalidInputError('bad message "id"')
  if (typeof m.to !== 'string') throw new InvalidInputError('bad "to"')
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
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new InvalidInputError(`${what} is not a map`)
  }
  return value as Record<string, unknown>
}
