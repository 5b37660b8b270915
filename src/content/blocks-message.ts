/**
 * Messages of `/lateral/blocks/1.0.0` (schemas/blocks.cddl, docs/protocols/blocks.md): each is one
 * DAG-CBOR map in a length-prefixed frame. The frame reader bounds the size before anything is
 * allocated; `decodeMessage` then checks every field and refuses anything else.
 *
 *   want      { t: "want", w: [[cid, kind], ...] }   kind 0 = send the block, 1 = say if you have it
 *   have      { t: "have", c: [cid, ...] }
 *   block     { t: "block", c: cid, d: bytes }
 *   dont-have { t: "dont-have", c: [cid, ...] }
 *   cancel    { t: "cancel", c: [cid, ...] }
 */
import * as cbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { InvalidInputError } from '../core/errors.ts'
import { frameHeader } from '../core/framing.ts'
import { MAX_CHUNK_SIZE } from './import-options.ts'

export const BLOCKS_PROTOCOL = '/lateral/blocks/1.0.0'
/** Largest block a peer sends or accepts (a chunk plus room for a dag-pb node of 1024+ links). */
export const MAX_BLOCK_BYTES = MAX_CHUNK_SIZE + 256 * 1024
/** Largest frame: a block plus its CID and the map around it. */
export const MAX_FRAME_BYTES = MAX_BLOCK_BYTES + 1024
/** Entries in one want/have/dont-have/cancel message. */
export const MAX_ENTRIES = 1024

export const WANT_BLOCK = 0
export const WANT_HAVE = 1

export type WantKind = typeof WANT_BLOCK | typeof WANT_HAVE

export type BlocksMessage =
  | { t: 'want'; wants: Array<{ cid: CID; kind: WantKind }> }
  | { t: 'have' | 'dont-have' | 'cancel'; cids: CID[] }
  | { t: 'block'; cid: CID; data: Uint8Array }

export function encodeMessage(message: BlocksMessage): Uint8Array {
  switch (message.t) {
    case 'want':
      return cbor.encode({ t: 'want', w: message.wants.map((e) => [e.cid.bytes, e.kind]) })
    case 'block':
      return cbor.encode({ t: 'block', c: message.cid.bytes, d: message.data })
    default:
      return cbor.encode({ t: message.t, c: message.cids.map((c) => c.bytes) })
  }
}

// A block message, byte for byte as DAG-CBOR encodes it (keys sorted: c, d, t). The block's bytes
// sit in the middle, so it is sent as three parts and read as a view: no copy of the data.
const MAP3 = 0xa3
const KEY_C = [0x61, 0x63]
const KEY_D = [0x61, 0x64]
const TYPE_BLOCK = [0x61, 0x74, 0x65, ...new TextEncoder().encode('block')]

/** Minimal CBOR byte-string header (major type 2) for a length. */
function bytesHeader(length: number): number[] {
  if (length < 24) return [0x40 + length]
  if (length < 0x100) return [0x58, length]
  if (length < 0x10000) return [0x59, length >> 8, length & 0xff]
  return [0x5a, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]
}

/** Read a minimal byte-string header at `at`: [length, header size], or undefined. */
function readBytesHeader(b: Uint8Array, at: number): [number, number] | undefined {
  const first = b[at]
  if (first === undefined) return undefined
  if (first >= 0x40 && first < 0x58) return [first - 0x40, 1]
  if (first === 0x58 && at + 1 < b.length) return (b[at + 1] as number) >= 24 ? [b[at + 1] as number, 2] : undefined
  if (first === 0x59 && at + 2 < b.length) {
    const n = ((b[at + 1] as number) << 8) | (b[at + 2] as number)
    return n >= 0x100 ? [n, 3] : undefined
  }
  if (first === 0x5a && at + 4 < b.length) {
    const n =
      ((b[at + 1] as number) * 2 ** 24 + ((b[at + 2] as number) << 16)) |
      ((b[at + 3] as number) << 8) |
      (b[at + 4] as number)
    return n >= 0x10000 ? [n >>> 0, 5] : undefined
  }
  return undefined
}

/** A block message as the parts of one frame: [length prefix and head, the data itself, tail]. */
export function encodeBlockFrame(cid: CID, data: Uint8Array): Uint8Array[] {
  const head = [MAP3, ...KEY_C, ...bytesHeader(cid.bytes.length), ...cid.bytes, ...KEY_D, ...bytesHeader(data.length)]
  const total = head.length + data.length + TYPE_BLOCK.length
  return [Uint8Array.from([...frameHeader(total), ...head]), data, Uint8Array.from(TYPE_BLOCK)]
}

/** The canonical block message read as views into the frame, or undefined for anything else. */
function decodeBlockFast(b: Uint8Array): BlocksMessage | undefined {
  if (b[0] !== MAP3 || b[1] !== KEY_C[0] || b[2] !== KEY_C[1]) return undefined
  const cidHeader = readBytesHeader(b, 3)
  if (cidHeader === undefined || cidHeader[0] > 128) return undefined
  let at = 3 + cidHeader[1]
  const cidBytes = b.subarray(at, at + cidHeader[0])
  at += cidHeader[0]
  if (b[at] !== KEY_D[0] || b[at + 1] !== KEY_D[1]) return undefined
  const dataHeader = readBytesHeader(b, at + 2)
  if (dataHeader === undefined) return undefined
  at += 2 + dataHeader[1]
  if (at + dataHeader[0] + TYPE_BLOCK.length !== b.length) return undefined
  const data = b.subarray(at, at + dataHeader[0])
  at += dataHeader[0]
  for (let i = 0; i < TYPE_BLOCK.length; i++) if (b[at + i] !== TYPE_BLOCK[i]) return undefined
  if (data.length > MAX_BLOCK_BYTES) throw new InvalidInputError(`block of ${data.length} bytes is too large`)
  return { t: 'block', cid: cidOf(cidBytes), data }
}

/** Decode and check one message; InvalidInputError says what is wrong. */
export function decodeMessage(bytes: Uint8Array): BlocksMessage {
  const fast = decodeBlockFast(bytes)
  if (fast !== undefined) return fast
  let value: unknown
  try {
    value = cbor.decode(bytes)
  } catch (err) {
    throw new InvalidInputError(`blocks message is not DAG-CBOR: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidInputError('blocks message is not a map')
  const m = value as Record<string, unknown>
  switch (m.t) {
    case 'want': {
      exactKeys(m, ['t', 'w'])
      const list = entries(m.w, 'w')
      return {
        t: 'want',
        wants: list.map((e) => {
          if (!Array.isArray(e) || e.length !== 2 || (e[1] !== WANT_BLOCK && e[1] !== WANT_HAVE))
            throw new InvalidInputError('want entry must be [cid, 0 | 1]')
          return { cid: cidOf(e[0]), kind: e[1] as WantKind }
        }),
      }
    }
    case 'block': {
      exactKeys(m, ['c', 'd', 't'])
      if (!(m.d instanceof Uint8Array)) throw new InvalidInputError('block data must be bytes')
      if (m.d.length > MAX_BLOCK_BYTES) throw new InvalidInputError(`block of ${m.d.length} bytes is too large`)
      return { t: 'block', cid: cidOf(m.c), data: m.d }
    }
    case 'have':
    case 'dont-have':
    case 'cancel':
      exactKeys(m, ['c', 't'])
      return { t: m.t, cids: entries(m.c, 'c').map(cidOf) }
    default:
      throw new InvalidInputError(`unknown blocks message type ${describeType(m.t)}`)
  }
}

/**
 * The `t` a peer sent, for an error message: a short quoted string, or only its kind (a peer's
 * value may be a BigInt, which JSON.stringify throws on, or a megabyte of text).
 */
function describeType(t: unknown): string {
  return typeof t === 'string' ? JSON.stringify(t.length > 32 ? `${t.slice(0, 32)}...` : t) : `of kind ${typeof t}`
}

function exactKeys(m: Record<string, unknown>, keys: string[]): void {
  const got = Object.keys(m).sort()
  if (got.length !== keys.length || got.some((k, i) => k !== keys[i]))
    throw new InvalidInputError(`blocks message "${String(m.t)}" must have exactly the fields ${keys.join(', ')}`)
}

function entries(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_ENTRIES)
    throw new InvalidInputError(`"${field}" must be a list of 1 to ${MAX_ENTRIES} entries`)
  return value
}

function cidOf(value: unknown): CID {
  if (!(value instanceof Uint8Array) || value.length > 128) throw new InvalidInputError('a CID must be up to 128 bytes')
  try {
    return CID.decode(value)
  } catch (err) {
    throw new InvalidInputError(`not a CID: ${(err as Error).message}`)
  }
}
