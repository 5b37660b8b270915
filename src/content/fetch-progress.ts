/** What a download reports while it runs and when it ends (progress events, API, CLI summary). */

export type PeerState = 'active' | 'dropped' | 'corrupt' | 'timed-out'

export interface PeerTally {
  peerId: string
  /** Block bytes this peer delivered (and that were kept). */
  bytes: number
  blocks: number
  /** Recent delivery rate, bytes per second. */
  rateBps: number
  state: PeerState
}

export interface FetchProgress {
  cid: string
  /** Bytes of the whole DAG, when the root says (dag-pb cumulative sizes). */
  totalBytes?: number
  /** Bytes fetched from peers so far. */
  fetchedBytes: number
  fetchedBlocks: number
  /** Bytes found already stored here (resume). */
  storedBytes: number
  storedBlocks: number
  /** Recent download rate, bytes per second. */
  rateBps: number
  /** Estimated time left, ms, when the total is known and bytes are moving. */
  etaMs?: number
  peers: PeerTally[]
}

export interface FetchResult extends FetchProgress {
  blocks: number
  bytes: number
  durationMs: number
}

export interface FetchOptions {
  signal?: AbortSignal
  onProgress?: (progress: FetchProgress) => void
  /** Fetch only the root block, not the DAG under it. */
  recursive?: boolean
  /** Overrides the node's providerTimeoutMs. */
  timeoutMs?: number
}
