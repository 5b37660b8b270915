/**
 * What storage uses of the content service, declared here (the node's `content` satisfies it
 * structurally), so that storage never imports content's internals and a test can hand it a fake.
 */
import type { CID } from 'multiformats/cid'

/** Progress of a swarm fetch, as far as storage reads it. */
export interface FetchTally {
  /** Bytes fetched from peers so far. */
  fetchedBytes: number
  /** Bytes found already stored here. */
  storedBytes: number
  /** The DAG's total as its root claims it (dag-pb cumulative sizes), when it says. */
  totalBytes?: number
}

export interface StorageContent {
  /** Make every block of a DAG local (from peers where missing), reporting progress. */
  fetch(
    root: CID,
    options: { signal?: AbortSignal; onProgress?: (progress: FetchTally) => void; timeoutMs?: number },
  ): Promise<FetchTally>
  /** Keep a root (its blocks survive gc) and announce it. */
  pin(cid: string, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<unknown>
  unpin(cid: string): Promise<void>
  pins(): Promise<Array<{ cid: string }>>
  /** Delete every block no pin and no running transfer needs. */
  gc(): Promise<unknown>
}
