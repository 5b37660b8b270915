/**
 * Buffers the blocks server reads blocks into, filled again once net/ says the TLS socket has
 * written every byte of them out (`Net.leaseBuffer`).
 *
 * A seeder reading each block into a new 1 MiB buffer kept V8 running full collections through
 * whole transfers once its heap limits had settled low after a quiet spell (docs/architecture.md,
 * issue 17): buffers outside the JS heap, at the rate blocks are served, are what it collects
 * for. A buffer comes back only through its lease, so one that leaves some other way (a relayed
 * connection, a reset stream) is simply left to the garbage collector and a new one made in its
 * place; the pool never hands out a buffer anything may still read.
 */
import { setTimeout as delay } from 'node:timers/promises'

export interface ReadPoolInit {
  /** Bytes of each buffer: blocks longer than this are read as before, into their own buffer. */
  bufferBytes: number
  /** Free buffers kept at most; more come back than that only when many were out at once. */
  maxFree: number
  /** Free buffers are dropped after this long without a read, ms (an idle node keeps none). */
  idleMs: number
}

export class ReadPool {
  readonly #init: ReadPoolInit
  readonly #free: ArrayBuffer[] = []
  #lastTake = 0
  #sweeping = false
  /** Buffers handed out again after coming back, and buffers made. */
  readonly stats = { reused: 0, made: 0 }

  constructor(init: ReadPoolInit) {
    this.#init = init
  }

  take(): ArrayBuffer {
    this.#lastTake = performance.now()
    const free = this.#free.pop()
    if (free !== undefined) {
      this.stats.reused++
      return free
    }
    this.stats.made++
    return new ArrayBuffer(this.#init.bufferBytes)
  }

  /** A buffer whose every byte has been written out (never one anything may still read). */
  give(buffer: ArrayBuffer): void {
    if (this.#free.length >= this.#init.maxFree) return
    this.#free.push(buffer)
    void this.#sweep()
  }

  /** Drop the free buffers once no read has come for `idleMs`. */
  async #sweep(): Promise<void> {
    if (this.#sweeping) return
    this.#sweeping = true
    try {
      while (this.#free.length > 0) {
        const idle = performance.now() - this.#lastTake
        if (idle >= this.#init.idleMs) {
          this.#free.length = 0
          break
        }
        await delay(this.#init.idleMs - idle, undefined, { ref: false })
      }
    } finally {
      this.#sweeping = false
    }
  }
}
