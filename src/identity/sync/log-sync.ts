/**
 * Serving and fetching identity logs over `/lateral/identity/1.0.0`: a peer asks for the log of
 * an identity by its ID and gets every entry this node keeps, in frames of at most
 * SYNC_ENTRIES_PER_FRAME, topological order. What arrives is bytes only: the caller verifies
 * every entry (the identity log) before using any of it.
 */
import { DEFAULT_IDENTITY_SYNC_TIMEOUT_MS, DEFAULT_LOG_MAX_ENTRIES } from '../../core/constants.ts'
import { InvalidInputError } from '../../core/errors.ts'
import { encodeFrame, readFrames } from '../../core/framing.ts'
import type { Logger } from '../../core/logger.ts'
import type { Net, ProtocolStream } from '../../net/index.ts'
import {
  decodeAnswer,
  decodeRequest,
  encodeAnswer,
  encodeRequest,
  IDENTITY_PROTOCOL,
  SYNC_ENTRIES_PER_FRAME,
  SYNC_MAX_FRAME_BYTES,
} from './messages.ts'

/** Where the server finds the logs it serves. */
export interface LogSource {
  /** Every entry of the identity's log, topological order; undefined when it is not kept here. */
  entriesOf(identityId: string): Uint8Array[] | undefined
}

export interface LogSyncInit {
  /** A whole exchange (ask, all frames) gives up after this (DEFAULT_IDENTITY_SYNC_TIMEOUT_MS). */
  timeoutMs?: number
  /** Entries accepted in one answer at most (DEFAULT_LOG_MAX_ENTRIES). */
  maxEntries?: number
  /** Sync streams one connection may have open at once. */
  maxInboundStreams?: number
}

export interface LogSyncComponents {
  net: Net
  source: LogSource
  log: Logger
}

export class LogSync {
  readonly #init: LogSyncInit
  readonly #c: LogSyncComponents

  constructor(init: LogSyncInit, components: LogSyncComponents) {
    this.#init = init
    this.#c = components
  }

  async start(): Promise<void> {
    await this.#c.net.handle(IDENTITY_PROTOCOL, (stream) => this.#serve(stream), {
      maxInboundStreams: this.#init.maxInboundStreams ?? 8,
      writeTimeoutMs: this.#timeoutMs(),
    })
  }

  async stop(): Promise<void> {
    await this.#c.net.unhandle(IDENTITY_PROTOCOL).catch(() => {})
  }

  /** The entries `peerId` keeps of an identity's log (unverified), or undefined when it has none. */
  async fetch(peerId: string, identityId: string, have: string[] = []): Promise<Uint8Array[] | undefined> {
    const signal = AbortSignal.timeout(this.#timeoutMs())
    const stream = await this.#c.net.openStream(peerId, IDENTITY_PROTOCOL, { signal })
    const max = this.#init.maxEntries ?? DEFAULT_LOG_MAX_ENTRIES
    try {
      await stream.write(encodeFrame(encodeRequest({ t: 'log', id: identityId, ...(have.length > 0 ? { have } : {}) })))
      const entries: Uint8Array[] = []
      for await (const frame of readFrames(stream, SYNC_MAX_FRAME_BYTES)) {
        if (signal.aborted) throw signal.reason
        const answer = decodeAnswer(frame.subarray())
        if (answer.t === 'unknown') return undefined
        entries.push(...answer.entries)
        if (entries.length > max) throw new InvalidInputError(`identity sync: more than ${max} entries`)
        if (!answer.more) {
          await stream.close().catch(() => {})
          return entries
        }
      }
      throw new InvalidInputError('identity sync: the answer ended early')
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  async #serve(stream: ProtocolStream): Promise<void> {
    const timer = setTimeout(() => stream.abort(new Error('identity sync: too slow')), this.#timeoutMs())
    timer.unref?.()
    try {
      const first = await readFrames(stream, 4096)[Symbol.asyncIterator]().next()
      if (first.done === true) return
      const request = decodeRequest(first.value.subarray())
      const entries = this.#c.source.entriesOf(request.id)
      if (entries === undefined) {
        await stream.write(encodeFrame(encodeAnswer({ t: 'unknown' })))
      } else {
        for (let i = 0; i === 0 || i < entries.length; i += SYNC_ENTRIES_PER_FRAME) {
          const part = entries.slice(i, i + SYNC_ENTRIES_PER_FRAME)
          const more = i + SYNC_ENTRIES_PER_FRAME < entries.length
          await stream.write(encodeFrame(encodeAnswer({ t: 'entries', entries: part, more })))
        }
      }
      await stream.close()
    } catch (err) {
      this.#c.log.debug('identity sync stream ended', { peer: stream.remotePeer, error: (err as Error).message })
      if (err instanceof InvalidInputError) this.#c.net.penalize(stream.remotePeer, 1, err.message)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      clearTimeout(timer)
    }
  }

  #timeoutMs(): number {
    return this.#init.timeoutMs ?? DEFAULT_IDENTITY_SYNC_TIMEOUT_MS
  }
}
