/** Recorders for simulation runs: distributions, success ratios, memory and event-loop lag. */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks'

/** Values of one measure (latency, hops, ...) with percentiles and a CDF. */
export class Distribution {
  readonly #values: number[] = []
  #sorted: number[] | undefined

  add(value: number): void {
    this.#values.push(value)
    this.#sorted = undefined
  }

  get count(): number {
    return this.#values.length
  }

  #sortedValues(): number[] {
    this.#sorted ??= [...this.#values].sort((a, b) => a - b)
    return this.#sorted
  }

  /** Nearest-rank percentile (p in 0..100); NaN when empty. */
  percentile(p: number): number {
    const s = this.#sortedValues()
    if (s.length === 0) return Number.NaN
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number
  }

  mean(): number {
    return this.#values.length === 0 ? Number.NaN : this.#values.reduce((a, b) => a + b, 0) / this.#values.length
  }

  /** [value, share of values <= value] at up to `points` steps, for plots. */
  cdf(points = 50): Array<[number, number]> {
    const s = this.#sortedValues()
    if (s.length === 0) return []
    const out: Array<[number, number]> = []
    const step = Math.max(1, Math.floor(s.length / points))
    for (let i = step - 1; i < s.length; i += step) out.push([s[i] as number, (i + 1) / s.length])
    if (out[out.length - 1]?.[1] !== 1) out.push([s[s.length - 1] as number, 1])
    return out
  }

  summary(digits = 1): { count: number; mean: number; p50: number; p90: number; p99: number; max: number } {
    const r = (v: number) => Math.round(v * 10 ** digits) / 10 ** digits
    return {
      count: this.count,
      mean: r(this.mean()),
      p50: r(this.percentile(50)),
      p90: r(this.percentile(90)),
      p99: r(this.percentile(99)),
      max: r(this.percentile(100)),
    }
  }
}

/** Successes out of attempts. */
export class Ratio {
  ok = 0
  total = 0

  record(success: boolean): void {
    this.total++
    if (success) this.ok++
  }

  get value(): number {
    return this.total === 0 ? Number.NaN : this.ok / this.total
  }
}

/** The process's memory now, MiB. */
export function memoryNow(): { rssMiB: number; heapUsedMiB: number } {
  const m = process.memoryUsage()
  return { rssMiB: Math.round(m.rss / 1048576), heapUsedMiB: Math.round(m.heapUsed / 1048576) }
}

/** Event-loop delay while running: how late timers fire when one loop carries many nodes. */
export class LoopLag {
  readonly #h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 })

  start(): this {
    this.#h.reset()
    this.#h.enable()
    return this
  }

  stop(): { p50Ms: number; p99Ms: number; maxMs: number } {
    this.#h.disable()
    const ms = (ns: number) => Math.round(ns / 1e5) / 10
    return { p50Ms: ms(this.#h.percentile(50)), p99Ms: ms(this.#h.percentile(99)), maxMs: ms(this.#h.max) }
  }
}
