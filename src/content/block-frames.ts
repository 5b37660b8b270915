/**
 * Reading what a provider sends on `/lateral/blocks` without copying block data.
 *
 * A block frame (docs/protocols/blocks.md) is read as it arrives: once its head (the CID and
 * the data's length, at most a few hundred bytes) is in, the data is kept as views of the
 * chunks the stream delivered and hashed piece by piece, so a 1 MiB block is never copied into
 * one buffer and its hash is ready when its last byte arrives. A block nobody asked for
 * (`accept` says no) is neither kept nor hashed. Every other message, and any block frame not
 * in the canonical layout, is collected whole (bounded by MAX_FRAME_BYTES, checked before
 * anything is allocated) and decoded by `decodeMessage`.
 */
import { createHash, type Hash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { InvalidInputError } from '../core/errors.ts'
import { type BlocksMessage, decodeMessage, MAX_BLOCK_BYTES, MAX_FRAME_BYTES } from './blocks-message.ts'

const MAX_VARINT_BYTES = 5
/** Enough bytes for any block frame's head: map, "c", a CID of up to 128 bytes, "d", length. */
const HEAD_BYTES = 160
const MAP3 = 0xa3
const KEY_C0 = 0x61
const KEY_C1 = 0x63
const KEY_D1 = 0x64
const TYPE_BLOCK = Uint8Array.from([0x61, 0x74, 0x65, ...new TextEncoder().encode('block')])

const SHA2_256 = 0x12
const SHA2_512 = 0x13

/**
 * A block as received: its data as the views it arrived in, and whether it hashes to its CID
 * (undefined when the reader was told to leave the hashing to its caller: `hashLater`).
 */
export interface ReceivedBlock {
  t: 'block'
  cid: CID
  parts: Uint8Array[]
  length: number
  matches: boolean | undefined
}

export type ReceivedMessage = Exclude<BlocksMessage, { t: 'block' }> | ReceivedBlock

/** The block's bytes in one buffer (a view when it arrived in one piece). */
export function joinParts(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Read a minimal CBOR byte-string header: [length, header size], or undefined. */
function bytesHeader(b: Uint8Array, at: number, end: number): [number, number] | undefined {
  if (at >= end) return undefined
  const first = b[at] as number
  if (first >= 0x40 && first < 0x58) return [first - 0x40, 1]
  if (first === 0x58 && at + 1 < end) return (b[at + 1] as number) >= 24 ? [b[at + 1] as number, 2] : undefined
  if (first === 0x59 && at + 2 < end) {
    const n = ((b[at + 1] as number) << 8) | (b[at + 2] as number)
    return n >= 0x100 ? [n, 3] : undefined
  }
  if (first === 0x5a && at + 4 < end) {
    const n =
      (b[at + 1] as number) * 2 ** 24 +
      (((b[at + 2] as number) << 16) | ((b[at + 3] as number) << 8) | (b[at + 4] as number))
    return n >= 0x10000 ? [n, 5] : undefined
  }
  return undefined
}

/** Whether blocks with this CID are checked by hashing (SHA-256, SHA-512). */
const hashedBy = (cid: CID): boolean => cid.multihash.code === SHA2_256 || cid.multihash.code === SHA2_512

function hasherFor(cid: CID): Hash | undefined {
  if (cid.multihash.code === SHA2_256) return createHash('sha256')
  if (cid.multihash.code === SHA2_512) return createHash('sha512')
  return undefined
}

type State =
  | { s: 'length'; value: number; shift: number; bytes: number }
  | { s: 'head'; frame: number; head: Uint8Array; got: number }
  | { s: 'whole'; frame: Uint8Array; got: number }
  | {
      s: 'data'
      cid: CID
      left: number
      length: number
      parts: Uint8Array[] | undefined
      hash: Hash | undefined
    }
  | { s: 'tail'; block: ReceivedBlock | undefined; got: number }

const LENGTH: State = { s: 'length', value: 0, shift: 1, bytes: 0 }

export class BlockFrameReader {
  readonly #accept: (cid: CID) => boolean
  readonly #hashLater: (cid: CID, length: number) => boolean
  #state: State = LENGTH
  #pending = 0

  /**
   * `accept(cid)`: whether a block with this CID is wanted (kept and hashed) or skipped.
   * `hashLater(cid, length)`: true when the caller hashes this wanted block itself (the store does, off the event loop):
   * it is then kept unhashed and comes out with `matches: undefined`.
   */
  constructor(accept: (cid: CID) => boolean, hashLater: (cid: CID, length: number) => boolean = () => false) {
    this.#accept = accept
    this.#hashLater = hashLater
  }

  /** Bytes received of a frame not yet complete. */
  get pending(): number {
    return this.#pending
  }

  /** Add a chunk; the messages it completed. Throws InvalidInputError on a malformed frame. */
  push(chunk: Uint8Array): ReceivedMessage[] {
    const out: ReceivedMessage[] = []
    let at = 0
    while (at < chunk.length) {
      const st = this.#state
      switch (st.s) {
        case 'length': {
          const byte = chunk[at++] as number
          const value = st.value + (byte & 0x7f) * st.shift
          const bytes = st.bytes + 1
          if (value > MAX_FRAME_BYTES)
            throw new InvalidInputError(`frame of ${value} bytes exceeds the limit of ${MAX_FRAME_BYTES}`)
          this.#pending += 1
          if ((byte & 0x80) === 0) {
            if (value === 0) throw new InvalidInputError('empty blocks message')
            this.#state = { s: 'head', frame: value, head: new Uint8Array(Math.min(value, HEAD_BYTES)), got: 0 }
          } else {
            if (bytes >= MAX_VARINT_BYTES) throw new InvalidInputError('malformed frame length')
            this.#state = { s: 'length', value, shift: st.shift * 128, bytes }
          }
          break
        }
        case 'head': {
          const n = Math.min(st.head.length - st.got, chunk.length - at)
          st.head.set(chunk.subarray(at, at + n), st.got)
          st.got += n
          at += n
          this.#pending += n
          if (st.got === st.head.length) {
            const done = this.#afterHead(st.frame, st.head)
            if (done !== undefined) out.push(done)
          }
          break
        }
        case 'whole': {
          const n = Math.min(st.frame.length - st.got, chunk.length - at)
          st.frame.set(chunk.subarray(at, at + n), st.got)
          st.got += n
          at += n
          this.#pending += n
          if (st.got === st.frame.length) {
            out.push(decoded(st.frame))
            this.#end()
          }
          break
        }
        case 'data': {
          const n = Math.min(st.left, chunk.length - at)
          const piece = chunk.subarray(at, at + n)
          at += n
          this.#pending += n
          this.#data(st, piece)
          break
        }
        case 'tail': {
          const n = Math.min(TYPE_BLOCK.length - st.got, chunk.length - at)
          for (let i = 0; i < n; i++) {
            if (chunk[at + i] !== TYPE_BLOCK[st.got + i]) throw new InvalidInputError('malformed block message')
          }
          st.got += n
          at += n
          this.#pending += n
          if (st.got === TYPE_BLOCK.length) {
            if (st.block !== undefined) out.push(st.block)
            this.#end()
          }
          break
        }
      }
    }
    return out
  }

  #end(): void {
    this.#state = LENGTH
    this.#pending = 0
  }

  /** The head is in: go on streaming a block's data, or collect the whole frame. */
  #afterHead(frame: number, head: Uint8Array): ReceivedMessage | undefined {
    const block = parseHead(head, frame)
    if (block === undefined) {
      if (head.length === frame) {
        this.#end()
        return decoded(head)
      }
      const whole = new Uint8Array(frame)
      whole.set(head)
      this.#state = { s: 'whole', frame: whole, got: head.length }
      return undefined
    }
    const wanted = this.#accept(block.cid)
    const st: State & { s: 'data' } = {
      s: 'data',
      cid: block.cid,
      left: block.length,
      length: block.length,
      parts: wanted ? [] : undefined,
      hash: wanted && !this.#hashLater(block.cid, block.length) ? hasherFor(block.cid) : undefined,
    }
    this.#state = st
    // What of the data (and tail) came with the head: copied out of the head buffer.
    const rest = head.subarray(block.headLength)
    const inData = rest.subarray(0, Math.min(rest.length, st.left))
    if (inData.length > 0 || st.left === 0) this.#data(st, inData)
    const tail = rest.subarray(inData.length)
    if (tail.length > 0) {
      // The whole frame fitted in the head: check the tail here.
      const t = this.#state as State
      if (t.s !== 'tail') throw new InvalidInputError('malformed block message')
      for (let i = 0; i < tail.length; i++)
        if (tail[i] !== TYPE_BLOCK[i]) throw new InvalidInputError('malformed block message')
      t.got = tail.length
      if (t.got === TYPE_BLOCK.length) {
        const b = t.block
        this.#end()
        return b
      }
    }
    return undefined
  }

  #data(st: State & { s: 'data' }, piece: Uint8Array): void {
    if (piece.length > 0) {
      st.left -= piece.length
      st.parts?.push(piece)
      st.hash?.update(piece)
    }
    if (st.left > 0) return
    let block: ReceivedBlock | undefined
    if (st.parts !== undefined) {
      let matches: boolean | undefined
      if (st.hash === undefined && hashedBy(st.cid)) {
        matches = undefined // hashLater: the caller hashes it
      } else if (st.hash !== undefined) {
        matches = Buffer.compare(st.hash.digest(), st.cid.multihash.digest) === 0
      } else {
        // Identity or an unknown hash: identity's digest is the data itself.
        matches =
          st.cid.multihash.code === 0x00 &&
          Buffer.compare(joinParts(st.parts, st.length), st.cid.multihash.digest) === 0
      }
      block = { t: 'block', cid: st.cid, parts: st.parts, length: st.length, matches }
    }
    this.#state = { s: 'tail', block, got: 0 }
  }
}

function decoded(frame: Uint8Array): ReceivedMessage {
  const m = decodeMessage(frame)
  if (m.t !== 'block') return m
  // A block frame in a layout the streaming path does not read (valid DAG-CBOR all the same).
  const hash = hasherFor(m.cid)
  const matches =
    hash !== undefined
      ? Buffer.compare(hash.update(m.data).digest(), m.cid.multihash.digest) === 0
      : m.cid.multihash.code === 0x00 && Buffer.compare(m.data, m.cid.multihash.digest) === 0
  return { t: 'block', cid: m.cid, parts: [m.data], length: m.data.length, matches }
}

/** The head of a canonical block frame: its CID, data length and head size; undefined if not one. */
function parseHead(b: Uint8Array, frame: number): { cid: CID; length: number; headLength: number } | undefined {
  const end = b.length
  if (b[0] !== MAP3 || b[1] !== KEY_C0 || b[2] !== KEY_C1) return undefined
  const cidHeader = bytesHeader(b, 3, end)
  if (cidHeader === undefined || cidHeader[0] > 128) return undefined
  let at = 3 + cidHeader[1]
  if (at + cidHeader[0] + 2 > end) return undefined
  const cidBytes = b.subarray(at, at + cidHeader[0])
  at += cidHeader[0]
  if (b[at] !== KEY_C0 || b[at + 1] !== KEY_D1) return undefined
  const dataHeader = bytesHeader(b, at + 2, end)
  if (dataHeader === undefined) return undefined
  at += 2 + dataHeader[1]
  if (at + dataHeader[0] + TYPE_BLOCK.length !== frame) return undefined
  if (dataHeader[0] > MAX_BLOCK_BYTES) throw new InvalidInputError(`block of ${dataHeader[0]} bytes is too large`)
  let cid: CID
  try {
    cid = CID.decode(cidBytes.slice())
  } catch (err) {
    throw new InvalidInputError(`not a CID: ${(err as Error).message}`)
  }
  return { cid, length: dataHeader[0], headLength: at }
}
