/** Walking a UnixFS DAG by its links: dag-pb nodes have links, raw blocks have none. */
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { InvalidInputError } from '../core/errors.ts'

/** The CIDs a block links to. */
export function linksOf(cid: CID, bytes: Uint8Array): CID[] {
  if (cid.code === raw.code) return []
  if (cid.code !== dagPb.code)
    throw new InvalidInputError(`unsupported block codec 0x${cid.code.toString(16)} in ${cid}`)
  return dagPb.decode(bytes).Links.map((l) => l.Hash)
}

export function parseCid(value: string): CID {
  try {
    return CID.parse(value)
  } catch {
    throw new InvalidInputError(`not a CID: ${JSON.stringify(value)}`)
  }
}

/** Bytes of the whole DAG under a block: its own size plus the cumulative sizes of its links. */
export function dagSize(cid: CID, bytes: Uint8Array): number | undefined {
  if (cid.code === raw.code) return bytes.length
  if (cid.code !== dagPb.code) return undefined
  let total = bytes.length
  for (const link of dagPb.decode(bytes).Links) {
    if (link.Tsize === undefined) return undefined
    total += link.Tsize
  }
  return total
}

/** What walking a stored DAG needs of a blockstore. */
export interface BlockSource {
  has(cid: CID): Promise<boolean>
  getBytes(cid: CID): Promise<Uint8Array>
}

/**
 * Every CID of a DAG that is stored here (depth first); parts under a missing block are skipped.
 * Raw blocks have no links, so they are checked, never read.
 */
export async function* storedBlocks(blocks: BlockSource, root: CID): AsyncGenerator<CID> {
  const stack = [root]
  while (stack.length > 0) {
    const cid = stack.pop() as CID
    if (!(await blocks.has(cid))) continue
    yield cid
    if (cid.code !== raw.code) stack.push(...linksOf(cid, await blocks.getBytes(cid)))
  }
}

/** The first block of a DAG that is not stored here, if any. */
export async function firstMissing(blocks: BlockSource, root: CID): Promise<CID | undefined> {
  const stack = [root]
  while (stack.length > 0) {
    const cid = stack.pop() as CID
    if (!(await blocks.has(cid))) return cid
    if (cid.code !== raw.code) stack.push(...linksOf(cid, await blocks.getBytes(cid)))
  }
  return undefined
}
