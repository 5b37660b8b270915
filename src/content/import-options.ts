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
import { create as createDigest } from 'multiformats/hashes/digest'
import type { MultihashDigest } from 'multiformats/hashes/interface'
import { sha256 } from 'multiformats/hashes/sha2'
import { InvalidInputError } from '../core/errors.ts'
import { digestOf } from '../store/index.ts'

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
 * SHA-256 on the libuv pool for large leaves (the store's `digestOf`), so the event loop reads
 * and stores the next ones meanwhile; small ones on this thread.
 */
async function digestOffThread(bytes: Uint8Array) {
  return createDigest(sha256.code, await digestOf('sha256', [bytes]))
}

/** A store that can hash what it writes (gc.ts's import store over the filesystem blockstore). */
interface HashingStore {
  putHashed?(bytes: Uint8Array, algorithm: 'sha256', name: (digest: Uint8Array) => CID): Promise<CID>
  hashesOffThreadFor?(length: number): boolean
}

/**
 * A leaf stored under its SHA-256 CID (`cidOf` its multihash): hashed by the store as it writes it
 * (on a worker, in the buffer of its direct write) where the store can for its size, else hashed
 * here first (and not written again when the store has it).
 */
async function stored(
  blockstore: Parameters<BufferImporter>[1] & HashingStore,
  block: Uint8Array,
  cidOf: (digest: MultihashDigest<typeof sha256.code>) => CID,
): Promise<CID> {
  const named = (digest: Uint8Array) => cidOf(createDigest(sha256.code, digest))
  if (blockstore.putHashed !== undefined && blockstore.hashesOffThreadFor?.(block.length) === true)
    return blockstore.putHashed(block, 'sha256', named)
  const cid = cidOf(await digestOffThread(block))
  await blockstore.put(cid, block)
  return cid
}

/** Leaves started ahead of the importer, per file: what an import holds beyond its batch. */
const LEAVES_AHEAD = 8

/**
 * The importer's leaf writer (as its default makes leaves: raw blocks, or UnixFS "file" nodes in
 * dag-pb), each leaf hashed and stored as soon as its chunk is read, up to LEAVES_AHEAD leaves
 * ahead of the importer. The importer takes leaves in batches of `blockWriteConcurrency`, starts
 * none of a batch before the whole batch is read, and reads nothing more until the whole batch
 * is stored: with its own writer reading and hashing/writing took turns. Here the file is read
 * on while a batch finishes.
 */
function eagerLeaves(options: { rawLeaves: boolean; cidVersion: 0 | 1 }): BufferImporter {
  type Leaf = Awaited<ReturnType<typeof leaf>>
  const leaf = async (chunk: Uint8Array, blockstore: Parameters<BufferImporter>[1] & HashingStore) => {
    if (options.rawLeaves) {
      const cid = await stored(blockstore, chunk, (d) => CID.createV1(raw.code, d))
      return { cid, size: BigInt(chunk.length), block: chunk, unixfs: undefined as UnixFS | undefined }
    }
    const unixfs = new UnixFS({ type: 'file', data: chunk })
    const block = dagPb.encode({ Data: unixfs.marshal(), Links: [] })
    const cid = await stored(blockstore, block, (d) => CID.create(options.cidVersion, dagPb.code, d))
    return { cid, unixfs, size: BigInt(block.length), block }
  }
  return async function* (file, blockstore) {
    /** Leaves started and not yet handed to the importer, in order. */
    const ahead: Array<Promise<Leaf>> = []
    /** Every leaf not settled yet: when the import stops early they finish before it reports. */
    const running = new Set<Promise<void>>()
    let finished = false
    let failure: { err: unknown } | undefined
    let stop = false
    let wakeImporter: (() => void) | undefined
    let wakeReader: (() => void) | undefined
    const wake = (which: 'importer' | 'reader') => {
      const w = which === 'importer' ? wakeImporter : wakeReader
      if (which === 'importer') wakeImporter = undefined
      else wakeReader = undefined
      w?.()
    }
    const reader = (async () => {
      try {
        for await (const chunk of file.content) {
          const started = leaf(chunk, blockstore)
          const forget = (): void => {
            running.delete(settled)
          }
          const settled: Promise<void> = started.then(forget, forget)
          running.add(settled)
          ahead.push(started)
          wake('importer')
          while (ahead.length >= LEAVES_AHEAD && !stop) await new Promise<void>((r) => (wakeReader = r))
          if (stop) break
        }
      } catch (err) {
        failure = { err }
      } finally {
        finished = true
        wake('importer')
      }
    })()
    try {
      for (;;) {
        const next = ahead.shift()
        if (next !== undefined) {
          wake('reader')
          yield () => next
          continue
        }
        if (failure !== undefined) throw failure.err
        if (finished) return
        await new Promise<void>((r) => (wakeImporter = r))
      }
    } finally {
      stop = true
      wake('reader')
      await reader
      await Promise.all(running)
    }
  }
}
