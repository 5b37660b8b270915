/**
 * Bandwidth over time for the dashboard's chart: the node's byte totals sampled once a
 * second, kept as per-second rates for the last five minutes (in memory).
 */
import type { TrafficTotals } from '../net/index.ts'

export interface BandwidthSample {
  /** End of the interval, ms since the epoch. */
  time: number
  /** Bytes per second received over the interval. */
  inPerSec: number
  /** Bytes per second sent over the interval. */
  outPerSec: number
}

export class BandwidthHistory {
  readonly intervalMs: number
  readonly #size: number
  readonly #samples: BandwidthSample[] = []
  readonly #read: () => TrafficTotals | undefined
  #last: { time: number; totals: TrafficTotals } | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(read: () => TrafficTotals | undefined, options: { intervalMs?: number; size?: number } = {}) {
    this.#read = read
    this.intervalMs = options.intervalMs ?? 1000
    this.#size = options.size ?? 300
  }

  start(): void {
    this.sample()
    this.#timer = setInterval(() => this.sample(), this.intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Take one sample now (the timer calls this; tests may too). */
  sample(now = Date.now()): void {
    const totals = this.#read()
    if (totals === undefined) return
    const last = this.#last
    this.#last = { time: now, totals: { ...totals } }
    if (last === undefined || now <= last.time) return
    const seconds = (now - last.time) / 1000
    this.#samples.push({
      time: now,
      inPerSec: Math.round((totals.bytesIn - last.totals.bytesIn) / seconds),
      outPerSec: Math.round((totals.bytesOut - last.totals.bytesOut) / seconds),
    })
    if (this.#samples.length > this.#size) this.#samples.splice(0, this.#samples.length - this.#size)
  }

  samples(): BandwidthSample[] {
    return [...this.#samples]
  }
}
