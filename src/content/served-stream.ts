/** One incoming `/lateral/blocks/1.0.0` stream as the blocks server sees it. */
import type { CID } from 'multiformats/cid'
import type { ProtocolStream } from '../net/types.ts'
import { FrameWriter } from './frame-writer.ts'

export class ServedStream {
  readonly stream: ProtocolStream
  readonly out: FrameWriter
  /** Blocks wanted and not yet taken up for sending, in the order asked. */
  readonly queue = new Map<string, CID>()
  /** Bytes of blocks read for this stream whose write has not completed. */
  heldBytes = 0
  /** Blocks taken up for sending whose write has not completed. */
  inFlight = 0
  readonly #stop = new AbortController()
  readonly #idle: ReturnType<typeof setTimeout> | undefined
  #wake: (() => void) | undefined

  /** `onIdle` runs when nothing was asked or sent for `idleTimeoutMs` and nothing is pending (0 = never). */
  constructor(stream: ProtocolStream, idleTimeoutMs: number, onIdle: () => void) {
    this.stream = stream
    this.out = new FrameWriter(stream)
    if (idleTimeoutMs > 0) {
      this.#idle = setTimeout(() => {
        // Still serving (a slow turn or a write waiting on its own deadline) is not idle.
        if (this.busy) this.#idle?.refresh()
        else onIdle()
      }, idleTimeoutMs)
    }
  }

  /** Aborted once the stream is done with: pending turns and writes give up. */
  get signal(): AbortSignal {
    return this.#stop.signal
  }

  get busy(): boolean {
    return this.queue.size > 0 || this.inFlight > 0 || this.out.pendingBytes > 0
  }

  /** Something was asked or sent: the idle clock starts again. */
  touch(): void {
    this.#idle?.refresh()
  }

  /** The oldest wanted block, removed from the queue. */
  take(): CID | undefined {
    const first = this.queue.entries().next().value
    if (first === undefined) return undefined
    this.queue.delete(first[0])
    return first[1]
  }

  /** Wake the sender (new wants, or stopping). */
  notify(): void {
    this.#wake?.()
    this.#wake = undefined
  }

  /** Until `notify`. */
  sleep(): Promise<void> {
    if (this.#stop.signal.aborted) return Promise.resolve()
    return new Promise((resolve) => {
      this.#wake = resolve
    })
  }

  stop(): void {
    this.#stop.abort()
    clearTimeout(this.#idle)
    this.notify()
  }
}
