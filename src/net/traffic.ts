/**
 * Bytes on the wire, in total and per connection, counted on the raw (encrypted) socket
 * streams libp2p upgrades. The counting hooks into libp2p's metrics seam
 * (`trackMultiaddrConnection`, called once per connection before the upgrade), the same
 * way `@libp2p/prometheus-metrics` counts its `global` transfer bytes; a connection is matched
 * to its raw stream by the timeline object, which libp2p hands on unchanged (the remote
 * address is not: an inbound one gains a /p2p/ part).
 */
import type { Connection, Metrics, MultiaddrConnection } from '@libp2p/interface'
import type { TrafficTotals } from './types.ts'

interface Counter {
  bytesIn: number
  bytesOut: number
}

export class Traffic {
  readonly totals: TrafficTotals = { bytesIn: 0, bytesOut: 0 }
  /** Raw streams not yet matched to a connection, by their timeline object. */
  readonly #pending = new Map<unknown, Counter>()
  readonly #byConnection = new WeakMap<Connection, Counter>()

  /** Count the bytes of a raw connection stream from now on. */
  track(maConn: MultiaddrConnection): void {
    const counter: Counter = { bytesIn: 0, bytesOut: 0 }
    const totals = this.totals
    const dispatchEvent = maConn.dispatchEvent.bind(maConn)
    // A `message` listener would change when the stream delivers data, so wrap the dispatch.
    maConn.dispatchEvent = (evt: Event) => {
      if (evt.type === 'message') {
        const n = (evt as Event & { data: { byteLength: number } }).data.byteLength
        counter.bytesIn += n
        totals.bytesIn += n
      }
      return dispatchEvent(evt)
    }
    const send = maConn.send.bind(maConn)
    maConn.send = (data) => {
      counter.bytesOut += data.byteLength
      totals.bytesOut += data.byteLength
      return send(data)
    }
    this.#pending.set(maConn.timeline, counter)
    maConn.addEventListener('close', () => this.#pending.delete(maConn.timeline), { once: true })
  }

  /** Bind an upgraded connection to the counter of its raw stream. */
  opened(conn: Connection): void {
    const counter = this.#pending.get(conn.timeline)
    if (counter === undefined) return
    this.#pending.delete(conn.timeline)
    this.#byConnection.set(conn, counter)
  }

  /** Bytes each way over these connections (0 for any not counted). */
  of(conns: Connection[]): Counter {
    const sum = { bytesIn: 0, bytesOut: 0 }
    for (const conn of conns) {
      const c = this.#byConnection.get(conn)
      if (c === undefined) continue
      sum.bytesIn += c.bytesIn
      sum.bytesOut += c.bytesOut
    }
    return sum
  }

  /** Wrap a metrics factory so every connection libp2p upgrades is also counted here. */
  wrap<C>(factory: (components: C) => Metrics): (components: C) => Metrics {
    return (components) => {
      const metrics = factory(components)
      const inner = metrics.trackMultiaddrConnection.bind(metrics)
      metrics.trackMultiaddrConnection = (maConn) => {
        this.track(maConn)
        inner(maConn)
      }
      return metrics
    }
  }
}
