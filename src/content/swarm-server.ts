/**
 * The serving half of `/lateral/blocks/1.0.0`: answers have-queries at once and sends wanted
 * blocks through shared upload slots (first come, first served, one block per turn, so every
 * peer gets its share) under the node's upload rate limit. A peer that breaks the protocol is
 * penalised and its stream closed; a peer banned for corrupt blocks is refused.
 */
import type { CID } from 'multiformats/cid'
import { encodeFrame, readFrames } from '../core/framing.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import type { Net, ProtocolStream } from '../net/types.ts'
import {
  type BlocksMessage,
  decodeMessage,
  encodeBlockFrame,
  encodeMessage,
  MAX_ENTRIES,
  MAX_FRAME_BYTES,
  WANT_HAVE,
} from './blocks-message.ts'
import type { ByteRate, Slots } from './throttle.ts'

/** Blocks one peer may have queued on one stream; honest sessions stay far below. */
export const MAX_QUEUED_WANTS = 4 * MAX_ENTRIES

export interface BlockSource {
  has(cid: CID): Promise<boolean>
  getBytes(cid: CID): Promise<Uint8Array>
}

export interface ServerComponents {
  net: Net
  blocks: BlockSource
  slots: Slots
  uploadRate: ByteRate
  isBanned(peerId: string): boolean
  log: Logger
}

export interface ServedTally {
  bytes: number
  blocks: number
}

/**
 * Whole frames onto one stream, one frame at a time. A block frame goes out in three parts
 * and a have-answer written between two of them would corrupt the stream for the reader, so
 * every write of this server waits for the frame before it to be complete.
 */
export class FrameWriter {
  readonly #stream: ProtocolStream
  #tail: Promise<void> = Promise.resolve()

  constructor(stream: ProtocolStream) {
    this.#stream = stream
  }

  write(parts: Uint8Array[], options: { signal?: AbortSignal } = {}): Promise<void> {
    const run = this.#tail.then(async () => {
      for (const part of parts) await this.#stream.write(part, options)
    })
    this.#tail = run.catch(() => {})
    return run
  }
}

export class BlocksServer {
  readonly #c: ServerComponents
  readonly #served = new Map<string, ServedTally>()
  readonly #streams = new Set<ProtocolStream>()

  constructor(components: ServerComponents) {
    this.#c = components
  }

  /** Bytes and blocks sent to each peer since start. */
  served(): Map<string, ServedTally> {
    return new Map(this.#served)
  }

  /** Close every stream being served (the node is stopping). */
  closeAll(): void {
    for (const s of this.#streams) s.abort(new Error('node stopping'))
    this.#streams.clear()
  }

  async serve(stream: ProtocolStream): Promise<void> {
    const peer = stream.remotePeer
    if (this.#c.isBanned(peer)) {
      stream.abort(new Error('refused: this peer sent corrupt blocks'))
      return
    }
    this.#streams.add(stream)
    const out = new FrameWriter(stream)
    const queue = new Map<string, CID>()
    const stop = new AbortController()
    let wake: (() => void) | undefined
    const notify = () => {
      wake?.()
      wake = undefined
    }
    const sender = this.#send(stream, out, queue, stop.signal, (w) => {
      wake = w
    })
    try {
      for await (const frame of readFrames(stream, MAX_FRAME_BYTES)) {
        const message = decodeMessage(frame)
        await this.#onMessage(out, message, queue)
        notify()
      }
    } catch (err) {
      if (!stop.signal.aborted) {
        this.#c.net.penalize(peer, 1, `bad blocks stream: ${(err as Error).message}`)
        this.#c.log.debug('blocks stream refused', { peer, ...errorFields(err) })
        stream.abort(err as Error)
      }
    } finally {
      // The requester closed its side (its session ended) or broke the protocol: stop sending.
      stop.abort()
      notify()
      await sender.catch(() => {})
      this.#streams.delete(stream)
      await stream.close().catch(() => {})
    }
  }

  async #onMessage(out: FrameWriter, message: BlocksMessage, queue: Map<string, CID>): Promise<void> {
    if (message.t === 'cancel') {
      for (const cid of message.cids) queue.delete(cid.toString())
      return
    }
    if (message.t !== 'want') throw new Error(`a requester may not send "${message.t}"`)
    const have: CID[] = []
    const dontHave: CID[] = []
    for (const { cid, kind } of message.wants) {
      if (kind === WANT_HAVE) {
        ;((await this.#c.blocks.has(cid)) ? have : dontHave).push(cid)
        continue
      }
      queue.set(cid.toString(), cid)
      if (queue.size > MAX_QUEUED_WANTS) throw new Error(`more than ${MAX_QUEUED_WANTS} blocks wanted at once`)
    }
    if (have.length > 0) await out.write([encodeFrame(encodeMessage({ t: 'have', cids: have }))])
    if (dontHave.length > 0) await out.write([encodeFrame(encodeMessage({ t: 'dont-have', cids: dontHave }))])
  }

  async #send(
    stream: ProtocolStream,
    out: FrameWriter,
    queue: Map<string, CID>,
    signal: AbortSignal,
    sleepUntilWoken: (wake: () => void) => void,
  ): Promise<void> {
    const peer = stream.remotePeer
    const read = (): Promise<{ cid: CID; data?: Uint8Array }> | undefined => {
      const first = queue.entries().next().value
      if (first === undefined) return undefined
      const [key, cid] = first
      queue.delete(key)
      return this.#c.blocks.getBytes(cid).then(
        (data) => ({ cid, data }),
        () => ({ cid }),
      )
    }
    // The next block is read from disk while the current one is being sent.
    let next = read()
    while (!signal.aborted) {
      if (next === undefined) {
        if (queue.size === 0) await new Promise<void>((resolve) => sleepUntilWoken(resolve))
        next = read()
        continue
      }
      // One block per turn: a peer with many wants queues again behind the others.
      const release = await this.#c.slots.acquire(signal)
      try {
        const { cid, data } = await next
        next = read()
        if (data === undefined) {
          await out.write([encodeFrame(encodeMessage({ t: 'dont-have', cids: [cid] }))], { signal })
          continue
        }
        await this.#c.uploadRate.take(data.length, signal)
        if (signal.aborted) return
        await out.write(encodeBlockFrame(cid, data), { signal })
        const tally = this.#served.get(peer) ?? { bytes: 0, blocks: 0 }
        tally.bytes += data.length
        tally.blocks++
        this.#served.set(peer, tally)
      } finally {
        release()
      }
    }
  }
}
