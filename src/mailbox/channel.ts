/**
 * One mailbox stream as a sequence of frames, each read and each write within the idle
 * deadline: a peer that stops sending what it owes (a request, an envelope, an answer, an ack)
 * or stops reading is cut off after `idleMs`, and holds nothing of ours meanwhile.
 */
import { raceAbort } from '../core/abort.ts'
import { TimeoutError } from '../core/errors.ts'
import { encodeFrame, readFrames } from '../core/framing.ts'
import type { ProtocolStream } from '../net/index.ts'

export interface Channel {
  /** The next frame, or undefined when the other side ended the stream cleanly. */
  read(what: string): Promise<Uint8Array | undefined>
  write(bytes: Uint8Array): Promise<void>
}

export function channel(stream: ProtocolStream, maxFrameBytes: number, idleMs: number): Channel {
  const frames = readFrames(stream, maxFrameBytes)[Symbol.asyncIterator]()
  return {
    async read(what) {
      const deadline = AbortSignal.timeout(idleMs)
      const next = await raceAbort(
        frames.next(),
        deadline,
        () => new TimeoutError(`mailbox: no ${what} within ${idleMs} ms`),
      )
      return next.done === true ? undefined : next.value
    },
    write: (bytes) => stream.write(encodeFrame(bytes), { signal: AbortSignal.timeout(idleMs) }),
  }
}
