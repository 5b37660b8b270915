/**
 * Import settings: Lateral's defaults (CIDv1, raw leaves, 1 MiB chunks, up to 1024 links per
 * node) and IPFS's classic `ipfs add` defaults when CIDv0 is asked for (256 KiB chunks, dag-pb
 * leaves, balanced DAG of up to 174 links), as `ipfs add` users know them.
 */

import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { BufferImporter, ImporterOptions } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { InvalidInputError } from '../core/errors.ts'

export const DEFAULT_CHUNK_SIZE = 1024 * 1024
export const DEFAULT_MAX_LINKS = 1024
export const CLASSIC_CHUNK_SIZE = 256 * 1024
export const CLASSIC_MAX_LINKS = 174
/** A chunk (so a block) never exceeds this: peers refuse larger blocks. */
export const MAX_CHUNK_SIZE = 4 * 1024 * 1024

export interface AddOptions {
  cidVersion?: 0 | 1
  /** `size-N` (bytes), as in `ipfs add --chunker`. */
  chunker?: string
  rawLeaves?: boolean
  /** Compute the CIDs without storing anything. */
  onlyHash?: boolean
}

export function parseChunker(value: string): number {
  const m = /^size-(\d+)$/.exec(value)
  const size = m === null ? Number.NaN : Number(m[1])
  if (!Number.isSafeInteger(size) || size < 1 || size > MAX_CHUNK_SIZE) {
    throw new InvalidInputError(`invalid chunker ${JSON.stringify(value)}: use size-N with 1 <= N <= ${MAX_CHUNK_SIZE}`)
  }
  return size
}

export function importerOptions(options: AddOptions): Partial<ImporterOptions> {
  const classic = options.cidVersion === 0
  const chunkSize =
    options.chunker === undefined ? (classic ? CLASSIC_CHUNK_SIZE : DEFAULT_CHUNK_SIZE) : parseChunker(options.chunker)
  const rawLeaves = options.rawLeaves ?? !classic
  if (classic && rawLeaves) throw new InvalidInputError('raw leaves need CIDv1 (--cid-version 1)')
  return {
    cidVersion: classic ? 0 : 1,
    rawLeaves,
    // Without raw leaves, leaves are UnixFS "file" nodes, as classic `ipfs add` makes them.
    leafType: 'file',
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize }),
    layout: balanced({ maxChildrenPerNode: classic ? CLASSIC_MAX_LINKS : DEFAULT_MAX_LINKS }),
    wrapWithDirectory: false,
    bufferImporter: eagerLeaves({ rawLeaves, cidVersion: classic ? 0 : 1 }),
  }
}

/**
 * The importer's leaf writer (as its default makes leaves: raw blocks, or UnixFS "file" nodes in
 * dag-pb), each leaf hashed and stored as soon as its chunk is read. The importer takes leaves
 * in batches of `blockWriteConcurrency` and starts none of a batch before the whole batch is
 * read, so with its own writer reading and hashing/writing took turns instead of overlapping;
 * here the batch only collects leaves already under way (still at most that many in memory).
 */
function eagerLeaves(options: { rawLeaves: boolean; cidVersion: 0 | 1 }): BufferImporter {
  const leaf = async (chunk: Uint8Array, blockstore: Parameters<BufferImporter>[1]) => {
    if (options.rawLeaves) {
      const cid = CID.createV1(raw.code, await sha256.digest(chunk))
      await blockstore.put(cid, chunk)
      return { cid, size: BigInt(chunk.length), block: chunk }
    }
    const unixfs = new UnixFS({ type: 'file', data: chunk })
    const block = dagPb.encode({ Data: unixfs.marshal(), Links: [] })
    const cid = CID.create(options.cidVersion, dagPb.code, await sha256.digest(block))
    await blockstore.put(cid, block)
    return { cid, unixfs, size: BigInt(block.length), block }
  }
  return async function* (file, blockstore) {
    // Leaves under way: when the import stops early (a read error, a cancel), they finish
    // before it reports, so no write outlives the import.
    const running = new Set<Promise<unknown>>()
    try {
      for await (const chunk of file.content) {
        const started = leaf(chunk, blockstore)
        const forget = (): void => {
          running.delete(settled)
        }
        const settled: Promise<void> = started.then(forget, forget)
        running.add(settled)
        yield () => started
      }
    } finally {
      await Promise.all(running)
    }
  }
}
