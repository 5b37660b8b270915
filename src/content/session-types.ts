/** The contract of a download session (swarm-session.ts): what it needs, its options, its sizes. */
import type { CID } from 'multiformats/cid'
import type { Logger } from '../core/logger.ts'
import type { Net } from '../net/types.ts'
import type { FetchOptions } from './fetch-progress.ts'
import type { SessionLimits } from './session-limits.ts'
import type { ByteRate } from './throttle.ts'
import type { WantListSizes } from './want-list.ts'

export interface SessionBlockstore {
  has(cid: CID): Promise<boolean>
  getBytes(cid: CID): Promise<Uint8Array>
  /** Read a block into `target` (the blocks server's pool): its length, or undefined when longer. */
  readInto?(cid: CID, target: Uint8Array): Promise<number | undefined>
  /** A stored block's size, without reading it (a resumed download counts what it has). */
  size?(cid: CID): Promise<number>
  /** Store a block given whole or as the parts it arrived in (written in one go, never joined). */
  put(cid: CID, bytes: Uint8Array | Uint8Array[]): Promise<CID>
  /**
   * Store a received block hashed by the store as it writes it (off the event loop): `matches`
   * says as soon as the digest is known whether it is `cid`'s (false: nothing is kept), while the
   * file may still be being written; `stored` settles once a matching block is in place (or the
   * other dropped), and rejects when the write fails. Used for the blocks `checksOffThread`
   * takes; the others are hashed as they arrive, then `put`.
   */
  putChecked?(cid: CID, parts: Uint8Array[]): { matches: Promise<boolean>; stored: Promise<void> }
  /** Whether `putChecked` would hash a block of `length` bytes off the event loop now. */
  checksOffThread?(length: number): boolean
}

/** Session settings; the limits of session-limits.ts default when absent. */
export interface SwarmTuning extends Partial<SessionLimits> {
  /** Give up when no block arrives and no peer with the content appears for this long, ms. */
  providerTimeoutMs: number
  /** A request unanswered for this long (or 4x the peer's expected time, if longer) times out. */
  blockTimeoutMs: number
  /** Peers asked in one session. */
  maxPeers: number
  /** How often the DHT is asked again for providers while the download runs, ms. */
  providerSearchIntervalMs: number
}

export interface SessionComponents {
  net: Net
  blockstore: SessionBlockstore
  downloadRate: ByteRate
  tuning: SwarmTuning
  isBanned(peerId: string): boolean
  /** A peer sent a block that does not match its CID. */
  reportCorrupt(peerId: string, cid: CID): void
  /** A peer sent a block of `bytes` that matches its CID (the contribution ledger counts it). */
  onReceived?(peerId: string, bytes: number): void
  /** Where there is a choice, peers of a higher tier choose their blocks first (core/contribution.ts). */
  preference?(peerId: string): number
  log: Logger
}

export interface SessionOptions extends FetchOptions {
  /** `dag` (default): the DAG under the root, by `run()`. `blocks`: what `block()` asks for. */
  mode?: 'dag' | 'blocks'
}

/** The sizes of a session's structures (for tests and diagnostics). */
export interface SessionSizes extends WantListSizes {
  /** Peers that joined (active or not: their tallies are kept for the result). */
  peers: number
  activePeers: number
  /** Requests outstanding across peers. */
  requests: number
  /** Peers known to hold some block of the DAG. */
  holders: number
  /** Local readers waiting for blocks. */
  waiters: number
}
