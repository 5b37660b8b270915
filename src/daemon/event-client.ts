/**
 * One open event stream, written with back-pressure and a bounded buffer. The hub hands it
 * frames; while the response says "stop" (`write` returned false) frames wait in a queue here
 * until `drain`. What this client holds (that queue plus the response's unsent bytes) never
 * passes `maxBufferBytes`: a frame that would pass it drops the client instead, so one reader
 * that stops reading costs the daemon at most that much, whatever is published.
 *
 * A dropped client's stream ends with a final event, after whatever was already written:
 *
 *   event: dropped
 *   data: {"reason":"slow-reader","bufferedBytes":4190000,"limitBytes":4194304}
 *
 * Events published after the last delivered one are lost for that client; it should reconnect
 * (and reload what it shows). A client that never reads even that much is cut off after
 * `graceMs`, so a stalled socket does not stay open for ever.
 */
import type { ServerResponse } from 'node:http'

export interface EventClientInit {
  /** Bytes held for this client before it is dropped. */
  maxBufferBytes: number
  /** How long an ended stream may take to deliver what it already holds before its socket is destroyed. */
  graceMs: number
  /** Called once, when the client is gone (dropped, ended, or the connection closed). */
  onGone: () => void
  /** Called when the client is dropped for falling behind (before `onGone`). */
  onDrop?: () => void
}

/** Why a stream was ended early, as the `reason` of the final `dropped` event. */
export type DropReason = 'slow-reader'

export class EventClient {
  readonly #res: ServerResponse
  readonly #init: EventClientInit
  readonly #queue: Buffer[] = []
  #queued = 0
  #waiting = false
  #gone = false
  #grace: NodeJS.Timeout | undefined

  constructor(res: ServerResponse, init: EventClientInit) {
    this.#res = res
    this.#init = init
    res.on('close', () => {
      if (this.#grace !== undefined) clearTimeout(this.#grace)
      this.#queue.length = 0
      this.#queued = 0
      this.#leave()
    })
  }

  /** Bytes held for this client now: frames waiting for `drain` plus what the response has not sent. */
  get bufferedBytes(): number {
    return this.#queued + this.#res.writableLength
  }

  /** Whether frames may still be sent (not ended, dropped or closed). */
  get open(): boolean {
    return !this.#gone
  }

  /** Send one frame, or drop the client when it would hold more than its bound. */
  send(frame: Buffer): void {
    if (this.#gone) return
    const held = this.bufferedBytes
    if (held + frame.length > this.#init.maxBufferBytes) {
      this.#drop('slow-reader', held)
      return
    }
    if (this.#waiting) {
      this.#queue.push(frame)
      this.#queued += frame.length
      return
    }
    if (!this.#res.write(frame)) this.#waitForDrain()
  }

  /** End the stream after what it holds; a reader that has not taken it within the grace time is cut off. */
  end(final?: string): void {
    if (this.#gone) return
    this.#leave()
    for (const frame of this.#queue.splice(0)) this.#res.write(frame)
    this.#queued = 0
    this.#res.end(final)
    if (this.#res.writableLength > 0) {
      this.#grace = setTimeout(() => this.#res.destroy(), this.#init.graceMs)
      this.#grace.unref()
    }
  }

  /** Cut the connection at once (the daemon is stopping and this reader is behind). */
  destroy(): void {
    this.#leave()
    this.#res.destroy()
  }

  #drop(reason: DropReason, bufferedBytes: number): void {
    // What waits here was never written: free it now rather than after the grace time.
    this.#queue.length = 0
    this.#queued = 0
    this.#init.onDrop?.()
    const data = JSON.stringify({ reason, bufferedBytes, limitBytes: this.#init.maxBufferBytes })
    this.end(`event: dropped\ndata: ${data}\n\n`)
  }

  #waitForDrain(): void {
    this.#waiting = true
    this.#res.once('drain', this.#flush)
  }

  readonly #flush = (): void => {
    this.#waiting = false
    if (this.#gone) return
    while (this.#queue.length > 0) {
      const frame = this.#queue.shift() as Buffer
      this.#queued -= frame.length
      if (!this.#res.write(frame)) {
        this.#waitForDrain()
        return
      }
    }
  }

  #leave(): void {
    if (this.#gone) return
    this.#gone = true
    this.#init.onGone()
  }
}
