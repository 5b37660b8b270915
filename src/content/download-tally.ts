/**
 * What a download has done so far: bytes and blocks fetched from peers and found stored, the
 * DAG's total when its root says, the recent rate, and the progress events built from them
 * (at most one every REPORT_EVERY_MS unless forced).
 */
import type { CID } from 'multiformats/cid'
import type { FetchProgress, PeerTally } from './fetch-progress.ts'
import { RateMeter } from './rate-meter.ts'

/** Progress events at most this often, ms. */
const REPORT_EVERY_MS = 200
/** Block size assumed before any block has arrived. */
const AVG_BLOCK_GUESS = 256 * 1024

export class DownloadTally {
  readonly #root: CID
  readonly #meter: RateMeter
  readonly #onProgress: ((progress: FetchProgress) => void) | undefined
  totalBytes: number | undefined
  fetchedBytes = 0
  fetchedBlocks = 0
  storedBytes = 0
  storedBlocks = 0
  #lastReport = 0

  constructor(root: CID, startedAt: number, onProgress?: (progress: FetchProgress) => void) {
    this.#root = root
    this.#meter = new RateMeter(startedAt)
    this.#onProgress = onProgress
  }

  get blocks(): number {
    return this.fetchedBlocks + this.storedBlocks
  }

  get bytes(): number {
    return this.fetchedBytes + this.storedBytes
  }

  /** A block arrived from a peer (counted in the rate now; in the totals once stored). */
  arrived(bytes: number): void {
    this.#meter.add(bytes)
  }

  fetched(bytes: number): void {
    this.fetchedBytes += bytes
    this.fetchedBlocks++
  }

  /** A block was already here. */
  found(bytes: number): void {
    this.storedBytes += bytes
    this.storedBlocks++
  }

  /** Mean size of the blocks fetched so far, or `guess` before the first. */
  avgBlock(guess = AVG_BLOCK_GUESS): number {
    return this.fetchedBlocks > 0 ? this.fetchedBytes / this.fetchedBlocks : guess
  }

  /** Send a progress event, unless one went out less than REPORT_EVERY_MS ago (and not `force`). */
  report(peers: () => PeerTally[], force = false): void {
    const now = performance.now()
    if (this.#onProgress === undefined || (!force && now - this.#lastReport < REPORT_EVERY_MS)) return
    this.#lastReport = now
    this.#onProgress(this.progress(peers()))
  }

  progress(peers: PeerTally[]): FetchProgress {
    const rateBps = this.#meter.rate()
    const left = this.totalBytes === undefined ? undefined : Math.max(0, this.totalBytes - this.bytes)
    return {
      cid: this.#root.toString(),
      ...(this.totalBytes === undefined ? {} : { totalBytes: this.totalBytes }),
      fetchedBytes: this.fetchedBytes,
      fetchedBlocks: this.fetchedBlocks,
      storedBytes: this.storedBytes,
      storedBlocks: this.storedBlocks,
      rateBps,
      ...(left !== undefined && rateBps > 0 ? { etaMs: Math.round((left / rateBps) * 1000) } : {}),
      peers,
    }
  }
}
