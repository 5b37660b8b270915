/**
 * Lateral's narrow ProtocolStream over a libp2p 3 message stream, with a write that really
 * waits for the reader.
 *
 * libp2p's own `onDrain()` cannot be relied on: its promise is created once, resolved by the
 * first `drain` event and never reset, so every later wait returns at once; and the muxer emits
 * `drain` to every stream of a connection when the socket drains. A writer that trusted it
 * piled everything it was asked for into the stream's unbounded write buffer. Here a write
 * waits until the stream's own unsent queue (`writeBufferLength`) is back within a bound,
 * re-checking after each `drain` / `idle` event, and gives up (resetting the stream) when the
 * queue makes no progress for the write deadline.
 */
import { type Connection, type Stream, type StreamCloseEvent, StreamStateError } from '@libp2p/interface'
import type { AbortOptions } from '../core/abort.ts'
import { DEFAULT_STREAM_WRITE_BUFFER_BYTES } from '../core/constants.ts'
import { TimeoutError } from '../core/errors.ts'
import type { ProtocolStream, StreamLimits } from './types.ts'

/**
 * Adapt a libp2p 3 message stream to Lateral's narrow ProtocolStream. With its connection, the
 * stream tells how many bytes a relay still allows (`remainingBytes`).
 */
export function toProtocolStream(
  stream: Stream,
  remotePeer: string,
  limits: StreamLimits = {},
  connection?: Pick<Connection, 'limits'>,
): ProtocolStream {
  const maxBuffered = limits.maxBufferedBytes ?? DEFAULT_STREAM_WRITE_BUFFER_BYTES
  return {
    protocol: stream.protocol ?? '',
    remotePeer,
    get bufferedBytes() {
      return stream.writeBufferLength
    },
    get remainingBytes() {
      // libp2p's relay transport keeps this count live as bytes pass (both directions).
      const bytes = connection?.limits?.bytes
      return bytes === undefined ? undefined : Number(bytes)
    },
    async *[Symbol.asyncIterator]() {
      for await (const chunk of stream) {
        // A Uint8ArrayList's parts are passed on as they are: concatenating them would copy.
        if (chunk instanceof Uint8Array) yield chunk
        else yield* chunk
      }
    },
    async write(bytes: Uint8Array, options?: AbortOptions) {
      options?.signal?.throwIfAborted()
      stream.send(bytes)
      if (stream.writeBufferLength > maxBuffered) {
        await waitForRoom(stream, maxBuffered, limits.writeTimeoutMs, options?.signal)
      }
    },
    async close(options?: AbortOptions) {
      await stream.close(options)
    },
    abort(err: Error) {
      stream.abort(err)
    },
  }
}

/**
 * Resolve once the stream's unsent bytes are at most `max`. Reject when the stream closes or
 * the signal aborts; when `stallMs` passes without the queue shrinking, reset the stream and
 * reject with a TimeoutError.
 */
export function waitForRoom(
  stream: Stream,
  max: number,
  stallMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let last = stream.writeBufferLength
    let timer: ReturnType<typeof setTimeout> | undefined
    const cleanup = () => {
      clearTimeout(timer)
      stream.removeEventListener('drain', onEvent)
      stream.removeEventListener('idle', onEvent)
      stream.removeEventListener('close', onClose)
      signal?.removeEventListener('abort', onAbort)
    }
    const fail = (err: Error) => {
      cleanup()
      reject(err)
    }
    const arm = () => {
      if (stallMs === undefined) return
      clearTimeout(timer)
      timer = setTimeout(onStall, stallMs)
    }
    const check = () => {
      const length = stream.writeBufferLength
      if (length <= max) {
        cleanup()
        resolve()
      } else if (length < last) {
        last = length
        arm()
      }
    }
    // libp2p's own drain listener (added when the stream was made, so it runs first) sends what
    // it can in a microtask; look at the queue after that.
    const onEvent = () => queueMicrotask(check)
    const onClose = (evt: Event) => {
      fail((evt as StreamCloseEvent).error ?? new StreamStateError('the stream closed while a write waited'))
    }
    const onAbort = () => fail(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason)))
    const onStall = () => {
      const err = new TimeoutError(`write made no progress for ${stallMs} ms: the reader stopped reading`)
      fail(err)
      stream.abort(err)
    }
    if (signal?.aborted === true) {
      onAbort()
      return
    }
    stream.addEventListener('drain', onEvent)
    stream.addEventListener('idle', onEvent)
    stream.addEventListener('close', onClose)
    signal?.addEventListener('abort', onAbort, { once: true })
    arm()
  })
}
