/**
 * One peer of a download session: its stream, the blocks asked of it, and its request window,
 * sized from the throughput and latency it shows (bandwidth-delay product plus headroom) and
 * halved when it times out.
 *
 * Bounded whatever the peer sends: `requests` holds at most `window` (<= `windowMax`) entries,
 * the rate meter is fixed-size, and nothing else grows per block.
 */
import { BLOCKS_CLOSE_GRACE_MS, BULK_RELAY_RESERVE_BYTES, REQUEST_QUEUE_MS } from '../core/constants.ts'
import { encodeFrame } from '../core/framing.ts'
import type { ProtocolStream } from '../net/types.ts'
import { type BlocksMessage, encodeMessage } from './blocks-message.ts'
import type { PeerState, PeerTally } from './fetch-progress.ts'
import { RateMeter } from './rate-meter.ts'
import type { SessionLimits } from './session-limits.ts'

/** Blocks the delivery rate is measured over. */
const RATE_SAMPLES = 8

/** What sizes a peer's window (session-limits.ts). */
export type WindowLimits = Pick<SessionLimits, 'windowInitial' | 'windowMin' | 'windowMax' | 'timeoutsBeforeDrop'>

export class SessionPeer {
  readonly id: string
  readonly stream: ProtocolStream
  state: PeerState = 'active'
  window: number
  /** CID -> time requested (performance.now()). */
  readonly requests = new Map<string, number>()
  /** Delivery rate over its last RATE_SAMPLES blocks, bytes per second. */
  rateBps = 0
  minLatencyMs = Number.POSITIVE_INFINITY
  lastArrival = 0
  strikes = 0
  /** Bytes and blocks delivered and kept. */
  bytes = 0
  blocks = 0
  readonly #meter: RateMeter
  readonly #limits: WindowLimits
  /** The last RATE_SAMPLES deliveries, as [bytes, ms] pairs in a ring; their sums. */
  readonly #sampled = new Float64Array(2 * RATE_SAMPLES)
  #sampleCount = 0
  #sampleBytes = 0
  #sampleMs = 0

  constructor(id: string, stream: ProtocolStream, startedAt: number, limits: WindowLimits) {
    this.id = id
    this.stream = stream
    this.#limits = limits
    this.window = limits.windowInitial
    this.#meter = new RateMeter(startedAt)
  }

  get active(): boolean {
    return this.state === 'active'
  }

  /** Requests it can take now. */
  get free(): number {
    return this.window - this.requests.size
  }

  /**
   * Requests it can take now, within what a relay still allows when its stream runs over a
   * relayed connection with a data limit: each request counted as `unit` bytes (the largest
   * block expected), and the reserve left for other messages.
   */
  room(unit: number): number {
    const free = this.free
    const remaining = this.stream.remainingBytes
    if (remaining === undefined || free <= 0) return free
    const allowed = Math.floor((remaining - BULK_RELAY_RESERVE_BYTES) / unit) - this.requests.size
    return Math.min(free, allowed)
  }

  /** Its connection's relay allows no more blocks, and nothing asked of it is outstanding. */
  limitReached(unit: number): boolean {
    return this.stream.remainingBytes !== undefined && this.requests.size === 0 && this.room(unit) <= 0
  }

  /** A block of `bytes` arrived, asked for at `sentAt`: update the estimates and the window. */
  measure(bytes: number, sentAt: number, avgBlock: number): void {
    const now = performance.now()
    const latency = now - sentAt
    this.minLatencyMs = Math.min(this.minLatencyMs, latency)
    // The time this block took: since it was asked for or since the block before it arrived,
    // whichever is later (time with nothing asked of the peer is not its to count).
    const ms = Math.max(0.05, now - Math.max(sentAt, this.lastArrival))
    // Bytes over time across the last RATE_SAMPLES blocks, not a mean of per-block rates: blocks
    // that queued up here while this event loop was busy arrive back to back, and one such
    // sample of a few GB/s made an average of rates believe a 20 MiB/s peer was ten times faster
    // (its requests then looked late at once, were copied to other peers, and what it sent was
    // wasted). A sum counts the stall before such a burst with the burst.
    const at = this.#sampleCount % RATE_SAMPLES
    if (this.#sampleCount >= RATE_SAMPLES) {
      this.#sampleBytes -= this.#sampled[2 * at] as number
      this.#sampleMs -= this.#sampled[2 * at + 1] as number
    }
    this.#sampled[2 * at] = bytes
    this.#sampled[2 * at + 1] = ms
    this.#sampleBytes += bytes
    this.#sampleMs += ms
    this.#sampleCount++
    this.rateBps = (this.#sampleBytes / this.#sampleMs) * 1000
    this.lastArrival = now
    this.#meter.add(bytes, now)
    // Enough asked to cover the round trip, and never less than REQUEST_QUEUE_MS of its rate:
    // the shortest round trip seen is a best case, and a sender's disk read or a busy event
    // loop at either end must not leave it with nothing to send.
    const queueMs = Math.max(this.minLatencyMs, REQUEST_QUEUE_MS)
    const bdp = (this.rateBps * (queueMs / 1000)) / Math.max(1, avgBlock)
    this.window = Math.min(this.#limits.windowMax, Math.max(this.#limits.windowMin, Math.ceil(bdp) + 2))
    this.strikes = 0
  }

  /** Its requests are overdue: halve the window. True when it has now timed out too often. */
  strike(): boolean {
    this.strikes++
    this.window = Math.max(1, Math.floor(this.window / 2))
    return this.strikes >= this.#limits.timeoutsBeforeDrop
  }

  /** When it should have sent everything asked of it, by its rate: ms from the oldest request. */
  expectedMs(avgBlock: number): number {
    return this.rateBps > 0 ? ((this.requests.size * avgBlock) / this.rateBps) * 1000 : 0
  }

  /**
   * When a block asked of it should arrive, ms from now, by its place among the requests it has
   * (it serves them in order) and its rate; undefined before its rate is measured.
   */
  arrivalMs(key: string, avgBlock: number): number | undefined {
    if (this.rateBps <= 0) return undefined
    let place = 0
    for (const asked of this.requests.keys()) {
      place++
      if (asked === key) return ((place * avgBlock) / this.rateBps) * 1000
    }
    return undefined
  }

  oldestRequest(): number {
    let oldest = Number.POSITIVE_INFINITY
    for (const at of this.requests.values()) oldest = Math.min(oldest, at)
    return oldest
  }

  /** Send one message; resolves with the stream's error instead of throwing it. */
  async send(message: BlocksMessage, signal: AbortSignal): Promise<Error | undefined> {
    if (!this.active) return undefined
    try {
      await this.stream.write(encodeFrame(encodeMessage(message)), { signal })
      return undefined
    } catch (err) {
      return err as Error
    }
  }

  async close(): Promise<void> {
    if (this.state === 'active') this.state = 'dropped'
    try {
      await this.stream.close({ signal: AbortSignal.timeout(BLOCKS_CLOSE_GRACE_MS) })
    } catch {
      this.stream.abort(new Error('session over'))
    }
  }

  tally(now = performance.now()): PeerTally {
    return {
      peerId: this.id,
      bytes: this.bytes,
      blocks: this.blocks,
      rateBps: this.active ? this.#meter.rate(now) : 0,
      state: this.state,
    }
  }
}
