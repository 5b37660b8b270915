/**
 * The serving half of `/lateral/blocks/1.0.0`: answers have-queries at once and sends wanted
 * blocks through shared upload slots (one block per turn, so every peer gets its share; with the
 * ledger, shares follow reputation: weighted-slots.ts) under the node's upload rate limit. A peer that breaks the protocol is
 * penalised and its stream closed; a peer banned for corrupt blocks is refused.
 *
 * A slow or stalled reader costs only itself:
 * - a block is read from disk only with one of its peer's in-flight permits
 *   (`peerBlocksInFlight`), kept until the peer has taken the block off the stream, so the
 *   memory one peer can pin is bounded whatever it asks for and however many streams it opens;
 * - a shared upload slot is held only to take a turn at the rate limit and hand the frame to
 *   the stream, never while a write waits for the reader, and one peer holds at most
 *   `peerSlots` of them;
 * - each stream's write buffer is bounded and a write that makes no progress for
 *   `writeTimeoutMs` resets the stream (src/net/stream.ts);
 * - a stream with nothing asked and nothing to send for `idleTimeoutMs` is reset.
 * A reset, an abort or a timeout is not an offence; only a protocol violation costs points.
 */
import type { CID } from 'multiformats/cid'
import {
  BLOCKS_READ_BUFFER_BYTES,
  BLOCKS_READ_POOL_IDLE_MS,
  BLOCKS_READ_POOL_MAX_FREE,
  DEFAULT_BLOCKS_IDLE_TIMEOUT_MS,
  DEFAULT_BLOCKS_MAX_INBOUND_STREAMS,
  DEFAULT_BLOCKS_MISSING_BURST,
  DEFAULT_BLOCKS_MISSING_PEERS,
  DEFAULT_BLOCKS_MISSING_PER_SECOND,
  DEFAULT_BLOCKS_PEER_IN_FLIGHT,
  DEFAULT_BLOCKS_PEER_SLOTS,
  DEFAULT_BLOCKS_WRITE_TIMEOUT_MS,
  DEFAULT_STREAM_WRITE_BUFFER_BYTES,
} from '../core/constants.ts'
import { InvalidInputError, TimeoutError } from '../core/errors.ts'
import { encodeFrame, readFrames } from '../core/framing.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import { TokenBuckets } from '../core/token-buckets.ts'
import type { HandleOptions, Net, ProtocolStream } from '../net/types.ts'
import {
  type BlocksMessage,
  decodeMessage,
  encodeBlockFrame,
  encodeMessage,
  MAX_ENTRIES,
  MAX_FRAME_BYTES,
  WANT_HAVE,
} from './blocks-message.ts'
import { ReadPool } from './read-pool.ts'
import { ServedStream } from './served-stream.ts'
import { KeyedSlots } from './throttle.ts'
import type { Turn } from './weighted-slots.ts'

/** Blocks one peer may have queued on one stream; honest sessions stay far below. */
export const MAX_QUEUED_WANTS = 4 * MAX_ENTRIES
/** Wants of one message whose presence in the store is asked at once (#onMessage). */
const HAS_CHECK_BATCH = 16

export interface BlockSource {
  has(cid: CID): Promise<boolean>
  getBytes(cid: CID): Promise<Uint8Array>
  /** Read a block into `target`: its length, or undefined (nothing read) when it is longer. */
  readInto?(cid: CID, target: Uint8Array): Promise<number | undefined>
}

export interface ServerComponents {
  net: Net
  blocks: BlockSource
  /** Shared upload slots; a turn names its peer and bytes, so weighted slots can order peers. */
  slots: { acquire(signal?: AbortSignal, turn?: Turn): Promise<() => void> }
  /** The upload rate limit; `key` names the peer for a rate that orders its waiters. */
  uploadRate: { take(n: number, signal?: AbortSignal, key?: string): Promise<void> }
  isBanned(peerId: string): boolean
  /** A block of `bytes` was written to `peerId` (the contribution ledger counts it). */
  onServed?(peerId: string, bytes: number): void
  log: Logger
}

export interface ServerInit {
  /** Upload slots one peer may hold at once, across its streams. */
  peerSlots?: number
  /** Blocks one peer may have in memory at once: read ahead, waiting for a slot, or not yet taken. */
  peerBlocksInFlight?: number
  /** A write to a requester that makes no progress for this long resets its stream, ms; 0 = never. */
  writeTimeoutMs?: number
  /** A stream with no request and nothing to send for this long is reset, ms; 0 = never. */
  idleTimeoutMs?: number
  /** Unsent bytes each served stream may keep queued beyond the write in progress. */
  streamBufferBytes?: number
  /** Blocks streams one connection may have open at once. */
  maxInboundStreams?: number
  /**
   * Wants for blocks this node does not hold that one peer may send at once, and per second
   * after that: past it the stream is refused and the peer penalised (a flood of wants for
   * blocks that do not exist costs a store lookup and an answer each).
   */
  missingWantsBurst?: number
  missingWantsPerSecond?: number
}

export interface ServedTally {
  bytes: number
  blocks: number
}

export interface ServerStats {
  /** Streams being served. */
  streams: number
  /** Unsent bytes in the write buffers of those streams, as the network layer reports them. */
  bufferedBytes: number
  /** Bytes of blocks read for requesters whose write has not completed (read ahead or queued). */
  heldBytes: number
  /** Streams reset because a write made no progress within the write deadline. */
  stalledResets: number
  /** Streams reset because nothing was asked or sent within the idle timeout. */
  idleResets: number
}

export class BlocksServer {
  readonly #c: ServerComponents
  readonly #served = new Map<string, ServedTally>()
  readonly #streams = new Set<ServedStream>()
  readonly #peerSlots: KeyedSlots
  readonly #inFlight: KeyedSlots
  /** Buffers blocks are read into and sent from, back once written out (read-pool.ts). */
  readonly #pool = new ReadPool({
    bufferBytes: BLOCKS_READ_BUFFER_BYTES,
    maxFree: BLOCKS_READ_POOL_MAX_FREE,
    idleMs: BLOCKS_READ_POOL_IDLE_MS,
  })
  readonly #writeTimeoutMs: number
  readonly #idleTimeoutMs: number
  readonly #streamBufferBytes: number
  readonly #maxInboundStreams: number
  readonly #missing: TokenBuckets
  #stalledResets = 0
  #idleResets = 0

  constructor(components: ServerComponents, init: ServerInit = {}) {
    this.#c = components
    this.#peerSlots = new KeyedSlots(init.peerSlots ?? DEFAULT_BLOCKS_PEER_SLOTS)
    this.#inFlight = new KeyedSlots(init.peerBlocksInFlight ?? DEFAULT_BLOCKS_PEER_IN_FLIGHT)
    this.#writeTimeoutMs = init.writeTimeoutMs ?? DEFAULT_BLOCKS_WRITE_TIMEOUT_MS
    this.#idleTimeoutMs = init.idleTimeoutMs ?? DEFAULT_BLOCKS_IDLE_TIMEOUT_MS
    this.#streamBufferBytes = init.streamBufferBytes ?? DEFAULT_STREAM_WRITE_BUFFER_BYTES
    this.#maxInboundStreams = init.maxInboundStreams ?? DEFAULT_BLOCKS_MAX_INBOUND_STREAMS
    this.#missing = new TokenBuckets(
      init.missingWantsBurst ?? DEFAULT_BLOCKS_MISSING_BURST,
      init.missingWantsPerSecond ?? DEFAULT_BLOCKS_MISSING_PER_SECOND,
      DEFAULT_BLOCKS_MISSING_PEERS,
    )
  }

  /** What `net.handle` should apply to incoming streams of this protocol. */
  handleOptions(): HandleOptions {
    return {
      maxInboundStreams: this.#maxInboundStreams,
      maxBufferedBytes: this.#streamBufferBytes,
      ...(this.#writeTimeoutMs > 0 ? { writeTimeoutMs: this.#writeTimeoutMs } : {}),
    }
  }

  /** Bytes and blocks sent to each peer since start. */
  served(): Map<string, ServedTally> {
    return new Map(this.#served)
  }

  stats(): ServerStats {
    let bufferedBytes = 0
    let heldBytes = 0
    for (const s of this.#streams) {
      bufferedBytes += s.stream.bufferedBytes ?? 0
      heldBytes += s.heldBytes
    }
    return {
      streams: this.#streams.size,
      bufferedBytes,
      heldBytes,
      stalledResets: this.#stalledResets,
      idleResets: this.#idleResets,
    }
  }

  /** Close every stream being served (the node is stopping). */
  closeAll(): void {
    for (const s of this.#streams) s.stream.abort(new Error('node stopping'))
    this.#streams.clear()
  }

  async serve(stream: ProtocolStream): Promise<void> {
    const peer = stream.remotePeer
    if (this.#c.isBanned(peer)) {
      stream.abort(new Error('refused: this peer sent corrupt blocks'))
      return
    }
    const s = new ServedStream(stream, this.#idleTimeoutMs, () => {
      this.#idleResets++
      stream.abort(new TimeoutError(`nothing asked for ${this.#idleTimeoutMs} ms`))
    })
    this.#streams.add(s)
    const sender = this.#send(s)
    try {
      for await (const frame of readFrames(stream, MAX_FRAME_BYTES)) {
        s.touch()
        await this.#onMessage(s, decodeMessage(frame))
        s.notify()
      }
    } catch (err) {
      if (!s.signal.aborted) this.#ended(s, err)
    } finally {
      // The requester closed its side (its session ended) or the stream broke: stop sending.
      s.stop()
      await sender.catch(() => {})
      this.#streams.delete(s)
      await this.#close(stream)
    }
  }

  /** Only a protocol violation is an offence; a reset, an abort or a timeout is not. */
  #ended(s: ServedStream, err: unknown): void {
    const peer = s.stream.remotePeer
    if (err instanceof InvalidInputError) {
      this.#c.net.penalize(peer, 1, `bad blocks stream: ${err.message}`)
      this.#c.log.debug('blocks stream refused', { peer, ...errorFields(err) })
    } else {
      this.#c.log.debug('blocks stream ended', { peer, ...errorFields(err) })
    }
    s.stream.abort(err instanceof Error ? err : new Error(String(err)))
  }

  /** Close gracefully, but not wait on a reader that took nothing for the write deadline. */
  async #close(stream: ProtocolStream): Promise<void> {
    const signal = this.#writeTimeoutMs > 0 ? AbortSignal.timeout(this.#writeTimeoutMs) : undefined
    await stream.close(signal === undefined ? {} : { signal }).catch((err: Error) => stream.abort(err))
  }

  async #onMessage(s: ServedStream, message: BlocksMessage): Promise<void> {
    if (message.t === 'cancel') {
      for (const cid of message.cids) s.queue.delete(cid.toString())
      return
    }
    if (message.t !== 'want') throw new InvalidInputError(`a requester may not send "${message.t}"`)
    const have: CID[] = []
    const dontHave: CID[] = []
    // The store is asked about HAS_CHECK_BATCH blocks at once: one after another, a 64-block
    // `have?` held the block wants behind it back by tens of ms. A bounded batch keeps one
    // peer's message from filling the file-system thread pool ahead of everyone else's reads.
    const wants = message.wants
    const stored: boolean[] = []
    for (let i = 0; i < wants.length; i += HAS_CHECK_BATCH) {
      const batch = wants.slice(i, i + HAS_CHECK_BATCH)
      stored.push(...(await Promise.all(batch.map(({ cid }) => this.#c.blocks.has(cid)))))
    }
    for (const [k, { cid, kind }] of wants.entries()) {
      const held = stored[k] === true
      if (kind === WANT_HAVE || !held) {
        // A block we lack is answered at once, and counts against the peer's missing-wants budget.
        ;(held ? have : dontHave).push(cid)
        continue
      }
      s.queue.set(cid.toString(), cid)
      if (s.queue.size > MAX_QUEUED_WANTS) {
        throw new InvalidInputError(`more than ${MAX_QUEUED_WANTS} blocks wanted at once`)
      }
    }
    const signal = s.signal
    if (dontHave.length > 0 && !this.#missing.take(s.stream.remotePeer, dontHave.length)) {
      throw new InvalidInputError('asked about too many blocks this node does not have')
    }
    if (have.length > 0) await s.out.write([encodeFrame(encodeMessage({ t: 'have', cids: have }))], { signal })
    if (dontHave.length > 0) {
      await s.out.write([encodeFrame(encodeMessage({ t: 'dont-have', cids: dontHave }))], { signal })
    }
  }

  /**
   * Hand wanted blocks to the stream in order. The next block is read while earlier ones are
   * still being taken by the reader, as far as the peer's in-flight permits allow.
   */
  async #send(s: ServedStream): Promise<void> {
    const peer = s.stream.remotePeer
    const signal = s.signal
    while (!signal.aborted) {
      if (s.queue.size === 0) {
        await s.sleep()
        continue
      }
      let release: () => void
      try {
        release = await this.#inFlight.acquire(peer, signal)
      } catch {
        return
      }
      const cid = s.take()
      if (cid === undefined) {
        // Cancelled while this stream waited for a permit.
        release()
        continue
      }
      s.inFlight++
      const done = () => {
        s.inFlight--
        release()
        s.touch()
      }
      let written: Promise<number>
      try {
        ;({ written } = await this.#handOver(s, cid))
      } catch (err) {
        done()
        if (!signal.aborted) this.#writeFailed(s, err)
        return
      }
      written.then(
        (bytes) => {
          if (bytes > 0) this.#tally(peer, bytes)
          done()
        },
        (err) => {
          done()
          this.#writeFailed(s, err)
        },
      )
    }
  }

  /**
   * A block to send: read into a buffer of the pool, leased to net/ so that it comes back once
   * the TLS socket has written all of it (where that cannot be told, it never comes back and is
   * collected as any other). Blocks longer than the pool's buffers are read into their own.
   */
  async #read(cid: CID): Promise<Uint8Array> {
    const blocks = this.#c.blocks
    if (blocks.readInto === undefined) return blocks.getBytes(cid)
    const buffer = this.#pool.take()
    let length: number | undefined
    try {
      length = await blocks.readInto(cid, new Uint8Array(buffer))
    } catch (err) {
      this.#pool.give(buffer)
      throw err
    }
    if (length === undefined) {
      this.#pool.give(buffer)
      return blocks.getBytes(cid)
    }
    this.#c.net.leaseBuffer(buffer, length, () => this.#pool.give(buffer))
    return new Uint8Array(buffer, 0, length)
  }

  /**
   * Read the block, wait for a turn (the peer's slot cap, then a shared slot, then the rate
   * limit) and start its write. Resolves when the frame is handed to the stream's writer, with
   * the write's completion (the bytes of block data sent, 0 for a dont-have), boxed so that
   * the caller need not wait for it.
   */
  async #handOver(s: ServedStream, cid: CID): Promise<{ written: Promise<number> }> {
    const signal = s.signal
    const data = await this.#read(cid).catch(() => undefined)
    signal.throwIfAborted()
    if (data === undefined) {
      const peer = s.stream.remotePeer
      if (!this.#missing.take(peer)) {
        // Penalised here: a failed hand-over ends the stream without the violation path.
        this.#c.net.penalize(peer, 1, 'asked for too many blocks this node does not have')
        throw new InvalidInputError('asked for too many blocks this node does not have')
      }
      const frame = encodeFrame(encodeMessage({ t: 'dont-have', cids: [cid] }))
      return { written: s.out.write([frame], { signal }).then(() => 0) }
    }
    s.heldBytes += data.length
    let handed = false
    try {
      const releasePeerSlot = await this.#peerSlots.acquire(s.stream.remotePeer, signal)
      try {
        const peer = s.stream.remotePeer
        const releaseSlot = await this.#c.slots.acquire(signal, { key: peer, cost: data.length })
        try {
          await this.#c.uploadRate.take(data.length, signal, peer)
          signal.throwIfAborted()
          const write = s.out.write(encodeBlockFrame(cid, data), { signal })
          handed = true
          const written = write
            .finally(() => {
              s.heldBytes -= data.length
            })
            .then(() => data.length)
          return { written }
        } finally {
          releaseSlot()
        }
      } finally {
        releasePeerSlot()
      }
    } finally {
      if (!handed) s.heldBytes -= data.length
    }
  }

  #writeFailed(s: ServedStream, err: unknown): void {
    // Counted whatever noticed the reset first: only the one write that waited gets the timeout.
    if (err instanceof TimeoutError) {
      this.#stalledResets++
      this.#c.log.debug('blocks stream reset: the reader stopped reading', { peer: s.stream.remotePeer })
    }
    if (s.signal.aborted) return
    s.stop()
    s.stream.abort(err instanceof Error ? err : new Error(String(err)))
  }

  #tally(peer: string, bytes: number): void {
    const tally = this.#served.get(peer) ?? { bytes: 0, blocks: 0 }
    tally.bytes += bytes
    tally.blocks++
    this.#served.set(peer, tally)
    this.#c.onServed?.(peer, bytes)
  }
}
