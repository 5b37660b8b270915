/** Random raw blocks and where the filesystem blockstore keeps them (blockstore tests). */
import { randomBytes } from 'node:crypto'
import { closeSync, constants, openSync, unlinkSync } from 'node:fs'
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

const O_DIRECT = (constants as { O_DIRECT?: number }).O_DIRECT

/** Whether files in `dir` can be opened with O_DIRECT. */
export function directWorksIn(dir: string): boolean {
  if (O_DIRECT === undefined) return false
  const probe = join(dir, 'probe')
  try {
    closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | O_DIRECT, 0o600))
    return true
  } catch {
    return false
  } finally {
    try {
      unlinkSync(probe)
    } catch {
      // not made
    }
  }
}
