/**
 * The blockstore as the UnixFS exporter reads it.
 *
 * - `liveReader`: stored blocks; while a download of the same DAG runs, a missing block is
 *   waited for until that download stores it (so a file streams out while it arrives, read
 *   once, instead of being read back after the download).
 * - `FetchingReader`: stored blocks, and missing ones fetched from peers through one swarm
 *   session opened at the first miss (one provider search, one stream per peer), however many
 *   blocks the reader needs.
 */
import type { ReadableStorage } from 'ipfs-unixfs-exporter'
import type { CID } from 'multiformats/cid'
import type { AbortOptions } from '../core/abort.ts'
import type { BlockSource } from './dag.ts'
import type { SwarmSession } from './swarm-session.ts'

/** Stored blocks, or those the running download `live()` (if any) is about to store. */
export function liveReader(blocks: BlockSource, live: () => SwarmSession | undefined): ReadableStorage {
  return {
    async *get(cid: CID, options: AbortOptions = {}) {
      const session = live()
      yield session === undefined ? await blocks.getBytes(cid) : await session.block(cid, options)
    },
  }
}

export class FetchingReader implements ReadableStorage {
  readonly #blocks: BlockSource
  readonly #open: () => SwarmSession
  #session: SwarmSession | undefined

  /** `open` makes the session, at the first block that is not stored. */
  constructor(blocks: BlockSource, open: () => SwarmSession) {
    this.#blocks = blocks
    this.#open = open
  }

  async *get(cid: CID, options: AbortOptions = {}): AsyncGenerator<Uint8Array> {
    if (this.#session === undefined && (await this.#blocks.has(cid))) {
      yield await this.#blocks.getBytes(cid)
      return
    }
    this.#session ??= this.#open()
    yield await this.#session.block(cid, options)
  }

  /** Close the session, if one was opened. */
  async close(): Promise<void> {
    await this.#session?.close()
  }
}
