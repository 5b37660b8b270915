/**
 * Bytes on the wire, in total and per connection, counted on the raw (encrypted) connections
 * libp2p upgrades. The counting hooks into libp2p's metrics seam (`trackMultiaddrConnection`,
 * called once per connection before the upgrade); a connection is matched to its raw stream by
 * the timeline object, which libp2p hands on unchanged (the remote address is not: an inbound one
 * gains a /p2p/ part).
 *
 * A TCP connection is counted by its socket's own byte counts, read when asked: nothing runs per
 * chunk, and the counts stay right after native-tls.ts hands the socket to OpenSSL (from then on
 * no byte passes through the connection object). Any other raw stream is counted as it delivers
 * and sends, the way `@libp2p/prometheus-metrics` counts its `global` transfer bytes; for
 * sockets taken over by native-tls.ts, `syncMetrics()` adds to that counter what it can no
 * longer see.
 */

import { Socket } from 'node:net'
import type { Connection, Metrics, MultiaddrConnection } from '@libp2p/interface'
import { nativeSocketOf } from './native-tls.ts'
import type { TrafficTotals } from './types.ts'

interface Counter {
  readonly bytesIn: number
  readonly bytesOut: number
}

/** Counts of a raw stream that is not a socket, kept as it delivers and sends. */
class EventCounter implements Counter {
  bytesIn = 0
  bytesOut = 0
}

/** Counts of a TCP socket, read from it (they stay readable after it closes). */
class SocketCounter implements Counter {
  readonly #socket: Socket
  constructor(socket: Socket) {
    this.#socket = socket
  }
  get bytesIn(): number {
    return this.#socket.bytesRead
  }
  get bytesOut(): number {
    return this.#socket.bytesWritten
  }
}

/** The part of `@libp2p/prometheus-metrics` that adds to its transfer counters. */
interface TransferCounting {
  _incrementValue?(key: string, value: number): void
}

export class Traffic {
  /** Bytes of connections closed so far. */
  readonly #closed = { bytesIn: 0, bytesOut: 0 }
  /** Counters of raw streams still open, with their stream. */
  readonly #open = new Map<MultiaddrConnection, Counter>()
  /** Raw streams not yet matched to a connection, by their timeline object. */
  readonly #pending = new Map<unknown, Counter>()
  readonly #byConnection = new WeakMap<Connection, Counter>()
  /** Bytes of taken-over sockets already added to the metrics' `global` counter, by stream. */
  readonly #reported = new WeakMap<MultiaddrConnection, { bytesIn: number; bytesOut: number }>()
  #metrics: TransferCounting | undefined

  /** Bytes each way over every connection so far, open or closed. */
  get totals(): TrafficTotals {
    const sum = { ...this.#closed }
    for (const c of this.#open.values()) {
      sum.bytesIn += c.bytesIn
      sum.bytesOut += c.bytesOut
    }
    return sum
  }

  /** Count the bytes of a raw connection stream from now on. */
  track(maConn: MultiaddrConnection): void {
    const socket = (maConn as { socket?: unknown }).socket
    const counter = socket instanceof Socket ? new SocketCounter(socket) : this.#countEvents(maConn)
    this.#open.set(maConn, counter)
    this.#pending.set(maConn.timeline, counter)
    maConn.addEventListener(
      'close',
      () => {
        this.#report(maConn)
        this.#open.delete(maConn)
        this.#pending.delete(maConn.timeline)
        this.#closed.bytesIn += counter.bytesIn
        this.#closed.bytesOut += counter.bytesOut
      },
      { once: true },
    )
  }

  #countEvents(maConn: MultiaddrConnection): EventCounter {
    const counter = new EventCounter()
    const dispatchEvent = maConn.dispatchEvent.bind(maConn)
    // A `message` listener would change when the stream delivers data, so wrap the dispatch.
    maConn.dispatchEvent = (evt: Event) => {
      if (evt.type === 'message') counter.bytesIn += (evt as Event & { data: { byteLength: number } }).data.byteLength
      return dispatchEvent(evt)
    }
    const send = maConn.send.bind(maConn)
    maConn.send = (data) => {
      counter.bytesOut += data.byteLength
      return send(data)
    }
    return counter
  }

  /** Bind an upgraded connection to the counter of its raw stream. */
  opened(conn: Connection): void {
    const counter = this.#pending.get(conn.timeline)
    if (counter === undefined) return
    this.#pending.delete(conn.timeline)
    this.#byConnection.set(conn, counter)
  }

  /** Bytes each way over these connections (0 for any not counted). */
  of(conns: Connection[]): { bytesIn: number; bytesOut: number } {
    const sum = { bytesIn: 0, bytesOut: 0 }
    for (const conn of conns) {
      const c = this.#byConnection.get(conn)
      if (c === undefined) continue
      sum.bytesIn += c.bytesIn
      sum.bytesOut += c.bytesOut
    }
    return sum
  }

  /** Add to the metrics' `global` transfer counter what taken-over sockets moved since the last call. */
  syncMetrics(): void {
    for (const maConn of this.#open.keys()) this.#report(maConn)
  }

  #report(maConn: MultiaddrConnection): void {
    const native = nativeSocketOf(maConn)
    const increment = this.#metrics?._incrementValue
    if (native === undefined || increment === undefined) return
    const done = this.#reported.get(maConn) ?? { bytesIn: 0, bytesOut: 0 }
    const bytesIn = native.socket.bytesRead - native.bytesRead
    const bytesOut = native.socket.bytesWritten - native.bytesWritten
    if (bytesIn > done.bytesIn) increment.call(this.#metrics, 'global received', bytesIn - done.bytesIn)
    if (bytesOut > done.bytesOut) increment.call(this.#metrics, 'global sent', bytesOut - done.bytesOut)
    this.#reported.set(maConn, { bytesIn, bytesOut })
  }

  /** Wrap a metrics factory so every connection libp2p upgrades is also counted here. */
  wrap<C>(factory: (components: C) => Metrics): (components: C) => Metrics {
    return (components) => {
      const metrics = factory(components)
      this.#metrics = metrics as TransferCounting
      const inner = metrics.trackMultiaddrConnection.bind(metrics)
      metrics.trackMultiaddrConnection = (maConn) => {
        this.track(maConn)
        inner(maConn)
      }
      return metrics
    }
  }
}
