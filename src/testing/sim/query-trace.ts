/**
 * Hop counts of one DHT walk from its query events (net's `onQuery`). A peer the walk starts
 * from (out of the asking node's own table) is 1 hop away; a peer first named by a peer at hop d
 * is at hop d + 1. The hops of a lookup are those of the peer that named the target (findPeer) or
 * the first provider (findProviders): the length of the chain of queries that led there.
 */
import type { DhtQueryEvent } from '../../net/index.ts'

export class QueryTrace {
  readonly #depth = new Map<string, number>()
  /** Queries sent, answers, failures (dead or unreachable peers); queries cut short when the walk ended are not failures. */
  sent = 0
  answered = 0
  failed = 0
  cancelled = 0
  /** Failures by error name (TimeoutError: no answer within kad-dht's request timeout). */
  readonly errors: Record<string, number> = {}
  /** Hop count of the peer that named the target; 0 when the asking node knew it already. */
  targetHops: number | undefined
  /** Hop count of the first peer that named a provider. */
  providerHops: number | undefined
  /** Deepest hop at which a peer answered. */
  maxHops = 0

  readonly onQuery = (e: DhtQueryEvent): void => {
    if (e.type === 'send-query') {
      this.sent++
      if (!this.#depth.has(e.to)) this.#depth.set(e.to, 1)
    } else if (e.type === 'peer-response') {
      this.answered++
      const d = this.#depth.get(e.from) ?? 1
      this.maxHops = Math.max(this.maxHops, d)
      for (const c of e.closer) if (!this.#depth.has(c)) this.#depth.set(c, d + 1)
      if (e.providers.length > 0 && this.providerHops === undefined) this.providerHops = d
    } else if (e.type === 'query-error') {
      if (e.error === 'AbortError') this.cancelled++
      else {
        this.failed++
        this.errors[e.error] = (this.errors[e.error] ?? 0) + 1
      }
    } else if (e.type === 'final-peer' && this.targetHops === undefined) {
      this.targetHops = this.#depth.get(e.from) ?? 0
    }
  }
}
