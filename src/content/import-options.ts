/**
 * Import settings: Lateral's defaults (CIDv1, raw leaves, 1 MiB chunks, up to 1024 links per
 * node) and IPFS's classic `ipfs add` defaults when CIDv0 is asked for (256 KiB chunks, dag-pb
 * leaves, balanced DAG of up to 174 links), as `ipfs add` users know them.
 */

import type { ImporterOptions } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
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
  }
}
