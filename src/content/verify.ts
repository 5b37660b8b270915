/** Checking a block against its CID before it is stored: the hash must match, byte for byte. */
import { createHash } from 'node:crypto'
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'

const SHA2_256 = 0x12
const SHA2_512 = 0x13
const IDENTITY = 0x00

/** Whether this node can fetch and check blocks of this CID (codec and hash it knows). */
export function isSupported(cid: CID): boolean {
  const codecOk = cid.code === raw.code || cid.code === dagPb.code
  const hash = cid.multihash.code
  return codecOk && (hash === SHA2_256 || hash === SHA2_512 || hash === IDENTITY)
}

/** The hash `cid` names, when it is one a store computes (SHA-256, SHA-512); undefined for identity and others. */
export function hashOf(cid: CID): 'sha256' | 'sha512' | undefined {
  const code = cid.multihash.code
  return code === SHA2_256 ? 'sha256' : code === SHA2_512 ? 'sha512' : undefined
}

/** True when `data` hashes to the digest inside `cid`. */
export function blockMatches(cid: CID, data: Uint8Array): boolean {
  const expected = cid.multihash.digest
  let actual: Uint8Array
  switch (cid.multihash.code) {
    case SHA2_256:
      actual = createHash('sha256').update(data).digest()
      break
    case SHA2_512:
      actual = createHash('sha512').update(data).digest()
      break
    case IDENTITY:
      actual = data
      break
    default:
      return false
  }
  return Buffer.compare(actual, expected) === 0
}
