/**
 * Walking a UnixFS DAG for storage: its total size (what a keeper is asked to hold), and the walk
 * of a challenge, from the root down to one block chosen by a list of random numbers. Both sides
 * follow the same rule, so the owner can precompute answers and check whole-block proofs.
 *
 * The walk rule: start at the root; while steps remain and the current block has links, take link
 * `steps[i] mod links.length`. The block where it stops is the challenged one. A raw block has no
 * links; a dag-pb block's links are its `Links`; any other codec is refused (Lateral's content is
 * UnixFS: dag-pb and raw).
 */
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import type { AbortOptions } from '../core/abort.ts'
import { equalBytes } from '../core/crypto.ts'
import { InvalidInputError, NotFoundError } from '../core/errors.ts'

/** What walking needs of a blockstore. */
export interface BlockSource {
  has(cid: CID): Promise<boolean>
  getBytes(cid: CID): Promise<Uint8Array>
  size(cid: CID): Promise<number>
}

/** A block of the DAG under `root` is not in the store being walked. */
function missing(cid: CID, root: CID): NotFoundError {
  return new NotFoundError(`block ${cid} of ${root} is not stored here`)
}

export function parseRoot(value: string): CID {
  if (value.length > 128) throw new InvalidInputError('not a CID: too long')
  let cid: CID
  try {
    cid = CID.parse(value)
  } catch {
    throw new InvalidInputError(`not a CID: ${JSON.stringify(value.slice(0, 80))}`)
  }
  if (cid.toString() !== value) throw new InvalidInputError(`a CID not in its canonical form: ${value.slice(0, 80)}`)
  return cid
}

/** The links of a block, by the walk rule's codecs. */
export function linksOf(cid: CID, bytes: Uint8Array): CID[] {
  if (cid.code === raw.code) return []
  if (cid.code !== dagPb.code)
    throw new InvalidInputError(`unsupported block codec 0x${cid.code.toString(16)} in ${cid}`)
  try {
    return dagPb.decode(bytes).Links.map((l) => l.Hash)
  } catch (err) {
    throw new InvalidInputError(`block ${cid} is not valid dag-pb: ${(err as Error).message}`)
  }
}

/** Bytes and blocks of a whole DAG as stored here; every block must be present. */
export async function dagTotal(
  blocks: BlockSource,
  root: CID,
  options: AbortOptions = {},
): Promise<{ bytes: number; blocks: number }> {
  const stack = [root]
  const seen = new Set<string>()
  let bytes = 0
  let count = 0
  while (stack.length > 0) {
    options.signal?.throwIfAborted()
    const cid = stack.pop() as CID
    const key = cid.toString()
    // A DAG may link one block twice (two equal chunks): it is stored, and counted, once.
    if (seen.has(key)) continue
    seen.add(key)
    if (!(await blocks.has(cid))) throw missing(cid, root)
    count++
    if (cid.code === raw.code) {
      bytes += await blocks.size(cid)
      continue
    }
    const data = await blocks.getBytes(cid)
    bytes += data.length
    stack.push(...linksOf(cid, data))
  }
  return { bytes, blocks: count }
}

/** The blocks a walk passes through, root first; the last is the challenged block. */
export async function walk(
  blocks: BlockSource,
  root: CID,
  steps: readonly number[],
): Promise<Array<{ cid: CID; bytes: Uint8Array }>> {
  const path: Array<{ cid: CID; bytes: Uint8Array }> = []
  let cid = root
  for (let i = 0; ; i++) {
    let bytes: Uint8Array
    try {
      bytes = await blocks.getBytes(cid)
    } catch {
      throw missing(cid, root)
    }
    path.push({ cid, bytes })
    if (i >= steps.length) return path
    const links = linksOf(cid, bytes)
    if (links.length === 0) return path
    cid = links[(steps[i] as number) % links.length] as CID
  }
}

/**
 * Check a whole-block proof: `blocks` must be exactly the blocks the walk passes through from
 * `root`, each hashing to the CID that links to it. Returns the reason it fails, or undefined.
 */
export async function checkPath(
  root: CID,
  steps: readonly number[],
  blocks: readonly Uint8Array[],
): Promise<string | undefined> {
  let cid = root
  for (let i = 0; i < blocks.length; i++) {
    const bytes = blocks[i] as Uint8Array
    const why = await hashMismatch(cid, bytes)
    if (why !== undefined) return `block ${i} of the proof: ${why}`
    let links: CID[]
    try {
      links = linksOf(cid, bytes)
    } catch (err) {
      return `block ${i} of the proof: ${(err as Error).message}`
    }
    const last = i === blocks.length - 1
    const ends = i >= steps.length || links.length === 0
    if (last !== ends)
      return last ? `the proof stops early, at block ${cid}` : 'the proof holds more blocks than the walk'
    if (!last) cid = links[(steps[i] as number) % links.length] as CID
  }
  return blocks.length === 0 ? 'the proof holds no block' : undefined
}

/** Why `bytes` are not the block `cid` names, or undefined when they are. */
async function hashMismatch(cid: CID, bytes: Uint8Array): Promise<string | undefined> {
  if (cid.multihash.code !== sha256.code) return `cannot check hash 0x${cid.multihash.code.toString(16)} of ${cid}`
  const digest = await sha256.digest(bytes)
  return equalBytes(digest.bytes, cid.multihash.bytes) ? undefined : `bytes do not hash to ${cid}`
}
