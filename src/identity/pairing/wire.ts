/**
 * One side's end of a pairing stream: send a message, expect the next one of a given type within
 * a deadline and a size bound, and end the pairing on both sides (an `abort` message, then the
 * stream closed). An `abort` from the other side is turned into the error it stands for.
 */
import type { AbortOptions } from '../../core/abort.ts'
import { PAIRING_CLOSE_GRACE_MS } from '../../core/constants.ts'
import {
  InvalidPairingCodeError,
  LateralError,
  PairingAbortedError,
  PairingCodeExpiredError,
  PairingCodeUsedError,
  PairingProtocolError,
  PairingVerificationError,
  TimeoutError,
} from '../../core/errors.ts'
import { encodeFrame } from '../../core/framing.ts'
import { BoundedFrames } from './frames.ts'
import { type AbortReason, decodeMessage, encodeMessage, type MessageType, type PairingMessage } from './messages.ts'

/**
 * What the pairing needs of a byte stream: the narrow face of net's ProtocolStream, so the
 * protocol runs over a libp2p stream or an in-memory pair alike. `remotePeer` must be the peer
 * ID the transport authenticated (libp2p's secure channel), never one the peer merely claims.
 */
export interface PairingStream {
  readonly remotePeer: string
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>
  write(bytes: Uint8Array, options?: AbortOptions): Promise<void>
  close(options?: AbortOptions): Promise<void>
  abort(err: Error): void
}

export class PairingWire {
  readonly stream: PairingStream
  readonly #frames = new BoundedFrames()
  readonly #source: AsyncIterator<Uint8Array>
  #ended = false

  constructor(stream: PairingStream) {
    this.stream = stream
    this.#source = stream[Symbol.asyncIterator]()
  }

  async send(message: PairingMessage, timeoutMs: number): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs)
    try {
      await this.stream.write(encodeFrame(encodeMessage(message)), { signal })
    } catch (err) {
      if (signal.aborted) throw new TimeoutError(`sending "${message.t}" took longer than ${timeoutMs} ms`)
      throw new PairingProtocolError(`the stream broke while sending "${message.t}": ${(err as Error).message}`)
    }
  }

  /**
   * The next message, which must be of `type`, within `timeoutMs`. Throws the error an `abort`
   * from the other side stands for, PairingProtocolError for anything else unexpected, and
   * TimeoutError (or `signal`'s reason) when nothing came in time.
   */
  async expect<T extends MessageType>(
    type: T,
    options: { maxBytes: number; maxPayloadBytes: number; timeoutMs: number; signal?: AbortSignal },
  ): Promise<Extract<PairingMessage, { t: T }>> {
    const message = await this.#read(options)
    if (message.t === 'abort') throw remoteError(message.reason, message.message)
    if (message.t !== type) throw new PairingProtocolError(`expected "${type}", received "${message.t}"`)
    return message as Extract<PairingMessage, { t: T }>
  }

  async #read(options: {
    maxBytes: number
    maxPayloadBytes: number
    timeoutMs: number
    signal?: AbortSignal
  }): Promise<PairingMessage> {
    const frame = this.#frames.next(options.maxBytes)
    if (frame !== undefined) return decodeMessage(frame, options.maxPayloadBytes)
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError(`no pairing message within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      )
      onAbort = () => reject(options.signal?.reason)
      if (options.signal?.aborted === true) onAbort()
      options.signal?.addEventListener('abort', onAbort, { once: true })
    })
    try {
      for (;;) {
        if (this.#ended) throw new PairingProtocolError('the other device closed the pairing stream')
        const next = await Promise.race([this.#nextChunk(), stop])
        if (next === undefined) {
          this.#ended = true
          if (this.#frames.pending > 0) throw new PairingProtocolError('the pairing stream ended inside a frame')
          continue
        }
        this.#frames.push(next)
        const frame = this.#frames.next(options.maxBytes)
        if (frame !== undefined) return decodeMessage(frame, options.maxPayloadBytes)
      }
    } finally {
      clearTimeout(timer)
      if (onAbort !== undefined) options.signal?.removeEventListener('abort', onAbort)
    }
  }

  /** One pull from the stream at a time: a read given up on (timeout) leaves its pull pending. */
  #pull: Promise<IteratorResult<Uint8Array>> | undefined

  async #nextChunk(): Promise<Uint8Array | undefined> {
    this.#pull ??= this.#source.next()
    let result: IteratorResult<Uint8Array>
    try {
      result = await this.#pull
    } catch (err) {
      this.#ended = true
      throw new PairingProtocolError(`the pairing stream broke: ${(err as Error).message}`)
    } finally {
      this.#pull = undefined
    }
    return result.done === true ? undefined : result.value
  }

  /** Tell the other side why the pairing ends (best effort), then close the stream. */
  async fail(err: unknown): Promise<void> {
    const { reason, message } = abortReasonOf(err)
    try {
      await this.send({ t: 'abort', reason, message: message.slice(0, 300) }, PAIRING_CLOSE_GRACE_MS)
    } catch {
      // The stream is gone already: the other side sees it end instead.
    }
    await this.close()
  }

  /** Close gracefully within a short grace, else reset. */
  async close(): Promise<void> {
    try {
      await this.stream.close({ signal: AbortSignal.timeout(PAIRING_CLOSE_GRACE_MS) })
    } catch (err) {
      this.stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }
}

/** The abort message for an error raised on this side. */
export function abortReasonOf(err: unknown): { reason: AbortReason; message: string } {
  const message = err instanceof Error ? err.message : String(err)
  if (err instanceof PairingAbortedError) return { reason: err.reason, message }
  if (err instanceof PairingCodeExpiredError) return { reason: 'code-expired', message }
  if (err instanceof PairingCodeUsedError) return { reason: 'code-used', message }
  if (err instanceof InvalidPairingCodeError) return { reason: 'code-unknown', message }
  if (err instanceof PairingVerificationError) return { reason: 'verification', message }
  if (err instanceof PairingProtocolError) return { reason: 'protocol', message }
  if (err instanceof TimeoutError) return { reason: 'timeout', message }
  return { reason: 'failed', message: err instanceof LateralError ? message : 'the pairing failed on the other device' }
}

/** Errors that stand for the other side's abort: it has ended already, so no abort goes back. */
const FROM_REMOTE = new WeakSet<object>()

export function isFromRemote(err: unknown): boolean {
  return typeof err === 'object' && err !== null && FROM_REMOTE.has(err)
}

/** The error an `abort` message from the other side stands for. */
export function remoteError(reason: string, message: string | undefined): Error {
  const err = errorFor(reason, message)
  FROM_REMOTE.add(err)
  return err
}

function errorFor(reason: string, message: string | undefined): Error {
  const said = message === undefined || message === '' ? '' : ` (it says: ${message})`
  switch (reason) {
    case 'refused':
      return new PairingAbortedError(`the other device refused the pairing${said}`, 'remote', 'refused')
    case 'cancelled':
      return new PairingAbortedError(`the other device cancelled the pairing${said}`, 'remote', 'cancelled')
    case 'code-expired':
      return new PairingCodeExpiredError('the pairing code has expired: make a new one on the new device')
    case 'code-used':
      return new PairingCodeUsedError('the pairing code was already used: make a new one on the new device')
    case 'code-unknown':
      return new InvalidPairingCodeError('the new device is not waiting on this pairing code (restarted or replaced?)')
    case 'verification':
      return new PairingVerificationError(`the other device reports a failed pairing check${said}`)
    case 'protocol':
      return new PairingProtocolError(`the other device reports a protocol error${said}`)
    case 'timeout':
      return new TimeoutError(`the other device gave up waiting${said}`)
    default:
      return new PairingAbortedError(`the other device ended the pairing${said}`, 'remote', 'failed')
  }
}
