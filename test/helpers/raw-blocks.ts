/** Random raw blocks and where the filesystem blockstore keeps them (blockstore tests). */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'

/** A raw block of `size` random bytes and its CID (SHA-256). */
export async function randomBlock(size = 64 * 1024): Promise<{ cid: CID; bytes: Uint8Array }> {
  const bytes = new Uint8Array(randomBytes(size))
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
}

/** The file of a block in an FsBlockstore rooted at `dir` (`xy/<cid>`, by the CID's last characters). */
export function blockFile(dir: string, cid: CID): string {
  const name = cid.toString()
  return join(dir, name.slice(-3, -1), name)
}
