/**
 * Announcing the roots this node keeps: a provider record in the DHT when content is added,
 * fetched or pinned, and again for every pin every `reprovideIntervalMs` (records expire).
 *
 * Announcements go through one queue that runs at most `reprovideConcurrency` DHT queries at
 * once, so a node with thousands of pins does not start thousands of lookups together. A root
 * waits in the queue at most once (a round that comes while the previous one is still queued
 * adds only what is not waiting already), so the queue never holds more than the pins; new
 * content is announced before the periodic round.
 */
import { DEFAULT_PROVIDE_TIMEOUT_MS, DEFAULT_REPROVIDE_CONCURRENCY } from '../core/constants.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import type { Net } from '../net/types.ts'

export interface AnnouncerInit {
  /** How often every pinned root is announced again, ms (0 = never). */
  reprovideIntervalMs: number
  /** DHT announcements (provide queries) running at once. */
  reprovideConcurrency?: number
  /** One announcement gives up after this long, ms. */
  provideTimeoutMs?: number
}

export interface AnnouncerComponents {
  net: Pick<Net, 'provide'>
  /** The roots to announce again (the pins). */
  roots(): Promise<string[]>
  log: Logger
}

interface Waiting {
  promise: Promise<void>
  resolve: () => void
}

export class Announcer {
  readonly #c: AnnouncerComponents
  readonly #interval: number
  readonly #concurrency: number
  readonly #timeout: number
  /** Roots waiting: new content first, then the periodic round. */
  readonly #fresh = new Map<string, Waiting>()
  readonly #round = new Map<string, Waiting>()
  #running = 0
  #timer: ReturnType<typeof setInterval> | undefined
  #stopped = new AbortController()

  constructor(components: AnnouncerComponents, init: AnnouncerInit) {
    this.#c = components
    this.#interval = init.reprovideIntervalMs
    this.#concurrency = Math.max(1, init.reprovideConcurrency ?? DEFAULT_REPROVIDE_CONCURRENCY)
    this.#timeout = init.provideTimeoutMs ?? DEFAULT_PROVIDE_TIMEOUT_MS
  }

  /** Announcements running now. */
  get running(): number {
    return this.#running
  }

  start(): void {
    if (this.#stopped.signal.aborted) this.#stopped = new AbortController()
    if (this.#interval <= 0 || this.#timer !== undefined) return
    this.#timer = setInterval(() => void this.reprovide(), this.#interval)
    this.#timer.unref()
  }

  /** Stop the timer, drop what waits and abort the announcements running. */
  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#stopped.abort()
    for (const queue of [this.#fresh, this.#round]) {
      for (const w of queue.values()) w.resolve()
      queue.clear()
    }
  }

  /** Announce one root soon (failures are logged and retried at the next reprovide). */
  announce(cid: string): void {
    void this.#enqueue(this.#fresh, cid)
  }

  /** Announce every pinned root again; resolves with how many, once they are all done. */
  async reprovide(): Promise<number> {
    const roots = await this.#c.roots()
    await Promise.all(roots.map((cid) => this.#enqueue(this.#round, cid)))
    return roots.length
  }

  #enqueue(queue: Map<string, Waiting>, cid: string): Promise<void> {
    if (this.#stopped.signal.aborted) return Promise.resolve()
    let waiting = queue.get(cid)
    if (waiting === undefined) {
      let resolve: () => void = () => {}
      const promise = new Promise<void>((r) => (resolve = r))
      waiting = { promise, resolve }
      queue.set(cid, waiting)
    }
    this.#pump()
    return waiting.promise
  }

  #pump(): void {
    while (this.#running < this.#concurrency) {
      const queue = this.#fresh.size > 0 ? this.#fresh : this.#round
      const next = queue.entries().next()
      if (next.done === true) return
      const [cid, waiting] = next.value
      queue.delete(cid)
      this.#running++
      void this.#provide(cid).finally(() => {
        this.#running--
        waiting.resolve()
        this.#pump()
      })
    }
  }

  async #provide(cid: string): Promise<void> {
    try {
      const signal = AbortSignal.any([this.#stopped.signal, AbortSignal.timeout(this.#timeout)])
      await this.#c.net.provide(cid, { signal })
      this.#c.log.debug('announced', { cid })
    } catch (err) {
      this.#c.log.debug('announce failed (no DHT peers yet?); it is retried at the next reprovide', {
        cid,
        ...errorFields(err),
      })
    }
  }
}
