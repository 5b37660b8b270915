/**
 * Keeping up with the chains of this node's counterparties: each round fetches, from where the
 * last fetch stopped, the chains of the `syncPeers` counterparties fetched least recently, at
 * most `syncEntries` entries each, verified (chain-sync.ts) and handed to the ledger (forks,
 * receipts of the graph). Where each chain was left is kept in the datastore.
 *
 * ```
 * /ledger/synced/<peer>   { seq, prev, at, length, ? error }
 * ```
 */
import * as cbor from '@ipld/dag-cbor'
import { Key } from 'interface-datastore'
import type { CID } from 'multiformats/cid'
import { errorFields, type Logger } from '../core/logger.ts'
import type { Net } from '../net/index.ts'
import type { Datastore } from '../store/datastore.ts'
import { type ChainFetch, fetchChain, type VerifiedEntry } from './chain-sync.ts'

const ROOT = '/ledger/synced'

export interface SyncState {
  /** The next position to fetch. */
  seq: number
  /** CID of the half before it (null at 1). */
  prev: CID | null
  /** When it was last fetched, ms since the epoch. */
  at: number
  /** The length its owner last claimed. */
  length: number
  /** Why its last fetch stopped early. */
  error?: string
}

export interface CrawlerComponents {
  net: Pick<Net, 'openStream'>
  datastore: Datastore
  onEntry(owner: string, entry: VerifiedEntry): Promise<void>
  log: Logger
}

export interface CrawlerInit {
  pageEntries: number
  syncEntries: number
  syncPeers: number
  timeoutMs: number
}

export class ChainCrawler {
  readonly #c: CrawlerComponents
  readonly #init: CrawlerInit
  readonly #states = new Map<string, SyncState>()

  constructor(components: CrawlerComponents, init: CrawlerInit) {
    this.#c = components
    this.#init = init
  }

  async load(): Promise<void> {
    for await (const { key, value } of this.#c.datastore.query({ prefix: `${ROOT}/` })) {
      this.#states.set(key.baseNamespace(), cbor.decode(value) as SyncState)
    }
  }

  state(peer: string): SyncState | undefined {
    return this.#states.get(peer)
  }

  /** Fetch `peer`'s chain from where it was left (or from `fromStart`), at most `maxEntries`. */
  async sync(
    peer: string,
    signal: AbortSignal,
    options: { maxEntries?: number; fromStart?: boolean; onEntry?: (entry: VerifiedEntry) => void } = {},
  ): Promise<ChainFetch> {
    const old = options.fromStart === true ? undefined : this.#states.get(peer)
    const from = { seq: old?.seq ?? 1, prev: old?.prev ?? null }
    const result = await fetchChain(
      this.#c.net,
      peer,
      from,
      {
        pageEntries: this.#init.pageEntries,
        maxEntries: options.maxEntries ?? this.#init.syncEntries,
        timeoutMs: this.#init.timeoutMs,
        signal,
      },
      async (entry) => {
        options.onEntry?.(entry)
        await this.#c.onEntry(peer, entry)
      },
    )
    // A fetch from the start that stopped earlier than the one kept does not move it back.
    const keep = old === undefined || result.next.seq >= old.seq ? result.next : { seq: old.seq, prev: old.prev }
    const state: SyncState = {
      ...keep,
      at: Date.now(),
      length: result.length,
      ...(result.error === undefined ? {} : { error: result.error }),
    }
    this.#states.set(peer, state)
    await this.#c.datastore.put(new Key(`${ROOT}/${peer}`), cbor.encode(state))
    return result
  }

  /** One round over the least recently fetched of `candidates`. */
  async round(candidates: string[], signal: AbortSignal): Promise<void> {
    const picked = [...new Set(candidates)]
      .sort((a, b) => (this.#states.get(a)?.at ?? 0) - (this.#states.get(b)?.at ?? 0))
      .slice(0, this.#init.syncPeers)
    for (const peer of picked) {
      if (signal.aborted) return
      try {
        const r = await this.sync(peer, signal)
        if (r.error !== undefined) this.#c.log.warn('a chain failed verification', { peer, error: r.error })
      } catch (err) {
        this.#c.log.debug('chain not fetched', { peer, ...errorFields(err) })
      }
    }
  }
}
