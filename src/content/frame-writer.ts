/** Whole frames onto one stream of `/lateral/blocks/1.0.0`, one frame at a time. */
import type { ProtocolStream } from '../net/types.ts'

/**
 * A block frame goes out in three parts and a have-answer written between two of them would
 * corrupt the stream for the reader, so every write waits for the frame before it to be
 * complete. Each part's write waits for the reader (the stream's write bound), so frames queued
 * here are held by the writer, never by the stream: `pendingBytes` counts them.
 */
export class FrameWriter {
  readonly #stream: ProtocolStream
  #tail: Promise<void> = Promise.resolve()
  #pending = 0

  constructor(stream: ProtocolStream) {
    this.#stream = stream
  }

  /** Bytes of frames accepted by `write` whose write has not completed. */
  get pendingBytes(): number {
    return this.#pending
  }

  write(parts: Uint8Array[], options: { signal?: AbortSignal } = {}): Promise<void> {
    const size = parts.reduce((n, p) => n + p.length, 0)
    this.#pending += size
    const run = this.#tail.then(async () => {
      for (const part of parts) await this.#stream.write(part, options)
    })
    const settled = run.finally(() => {
      this.#pending -= size
    })
    this.#tail = settled.catch(() => {})
    return settled
  }
}
