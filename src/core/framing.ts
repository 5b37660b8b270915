/**
 * Length-prefixed frames for Lateral's wire protocols: an unsigned LEB128 varint length, then
 * that many bytes. The reader refuses a length above its maximum before allocating anything,
 * and a varint longer than 5 bytes, so a peer cannot make the node buffer unbounded data.
 */
import { InvalidInputError } from './errors.ts'

const MAX_VARINT_BYTES = 5

/** The varint length prefix of a frame of `length` bytes. */
export function frameHeader(length: number): number[] {
  const header: number[] = []
  let n = length
  do {
    let byte = n & 0x7f
    n = Math.floor(n / 128)
    if (n > 0) byte |= 0x80
    header.push(byte)
  } while (n > 0)
  return header
}

export function encodeFrame(payload: Uint8Array): Uint8Array {
  const header = frameHeader(payload.length)
  const out = new Uint8Array(header.length + payload.length)
  out.set(header, 0)
  out.set(payload, header.length)
  return out
}

/** Incremental frame decoder: push chunks, take complete frames. */
export class FrameReader {
  readonly #max: number
  #buffered: Uint8Array[] = []
  #length = 0

  constructor(maxFrameBytes: number) {
    this.#max = maxFrameBytes
  }

  /** Add bytes; returns the frames completed so far. Throws InvalidInputError on an oversized or malformed length. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#buffered.push(chunk)
    this.#length += chunk.length
    const frames: Uint8Array[] = []
    for (;;) {
      const header = this.#peekVarint()
      if (header === undefined) break
      const { value, bytes } = header
      if (this.#length < bytes + value) break
      const all = this.#take(bytes + value)
      frames.push(all.subarray(bytes))
    }
    return frames
  }

  /** Bytes received but not yet part of a complete frame. */
  get pending(): number {
    return this.#length
  }

  #peekVarint(): { value: number; bytes: number } | undefined {
    let value = 0
    let shift = 1
    let i = 0
    for (const chunk of this.#buffered) {
      for (const byte of chunk) {
        value += (byte & 0x7f) * shift
        i++
        if ((byte & 0x80) === 0) {
          if (value > this.#max)
            throw new InvalidInputError(`frame of ${value} bytes exceeds the limit of ${this.#max}`)
          return { value, bytes: i }
        }
        if (i >= MAX_VARINT_BYTES) throw new InvalidInputError('malformed frame length')
        shift *= 128
        if (value > this.#max) throw new InvalidInputError(`frame exceeds the limit of ${this.#max} bytes`)
      }
    }
    return undefined
  }

  #take(n: number): Uint8Array {
    const out = new Uint8Array(n)
    let at = 0
    while (at < n) {
      const head = this.#buffered[0] as Uint8Array
      const need = n - at
      if (head.length <= need) {
        out.set(head, at)
        at += head.length
        this.#buffered.shift()
      } else {
        out.set(head.subarray(0, need), at)
        this.#buffered[0] = head.subarray(need)
        at += need
      }
    }
    this.#length -= n
    return out
  }
}

/** Read frames from an async byte source, each at most `maxFrameBytes`. */
export async function* readFrames(
  source: AsyncIterable<Uint8Array>,
  maxFrameBytes: number,
): AsyncGenerator<Uint8Array> {
  const reader = new FrameReader(maxFrameBytes)
  for await (const chunk of source) {
    for (const frame of reader.push(chunk)) yield frame
  }
  if (reader.pending > 0) throw new InvalidInputError(`stream ended inside a frame (${reader.pending} bytes left over)`)
}
