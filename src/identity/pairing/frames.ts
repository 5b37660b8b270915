/**
 * Length-prefixed frames for the pairing stream (an unsigned LEB128 varint, then that many
 * bytes, as in core/framing.ts), with the bound given per read: a handshake frame may be 1 KiB, a
 * payload frame megabytes, and a peer that has not yet proven the code's secret must not make the
 * new device hold more than the small bound. Oversized lengths are refused from the header alone.
 */
import { PairingProtocolError } from '../../core/errors.ts'

const MAX_VARINT_BYTES = 5

export class BoundedFrames {
  #chunks: Uint8Array[] = []
  #length = 0

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.#chunks.push(chunk)
    this.#length += chunk.length
  }

  /** Bytes held that are not yet part of a returned frame. */
  get pending(): number {
    return this.#length
  }

  /**
   * The next complete frame if it is all here, else undefined (push more). Throws
   * PairingProtocolError for a length above `maxBytes` or a varint longer than 5 bytes.
   */
  next(maxBytes: number): Uint8Array | undefined {
    const header = this.#header(maxBytes)
    if (header === undefined || this.#length < header.bytes + header.value) return undefined
    return this.#take(header.bytes + header.value).subarray(header.bytes)
  }

  #header(max: number): { value: number; bytes: number } | undefined {
    let value = 0
    let shift = 1
    let i = 0
    for (const chunk of this.#chunks) {
      for (const byte of chunk) {
        value += (byte & 0x7f) * shift
        i++
        if (value > max) throw new PairingProtocolError(`pairing frame longer than ${max} bytes`)
        if ((byte & 0x80) === 0) return { value, bytes: i }
        if (i >= MAX_VARINT_BYTES) throw new PairingProtocolError('malformed pairing frame length')
        shift *= 128
      }
    }
    return undefined
  }

  #take(n: number): Uint8Array {
    const out = new Uint8Array(n)
    let at = 0
    while (at < n) {
      const head = this.#chunks[0] as Uint8Array
      const need = n - at
      if (head.length <= need) {
        out.set(head, at)
        at += head.length
        this.#chunks.shift()
      } else {
        out.set(head.subarray(0, need), at)
        this.#chunks[0] = head.subarray(need)
        at += need
      }
    }
    this.#length -= n
    return out
  }
}
