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

/** Decode and check one message; InvalidInputError says what is wrong. */
export function decodeMessage(bytes: Uint8Array): BlocksMessage {
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
      throw new InvalidInputError(`unknown blocks message type ${JSON.stringify(m.t)}`)
  }
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
