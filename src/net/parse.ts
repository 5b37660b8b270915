/** Strings from callers (peer IDs, multiaddrs, CIDs) into libp2p's types, with clear errors. */
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import type { AbortOptions } from '../core/abort.ts'
import { InvalidInputError } from '../core/errors.ts'

export function parseCid(value: string): CID {
  try {
    return CID.parse(value)
  } catch {
    throw new InvalidInputError(`not a CID: ${JSON.stringify(value)}`)
  }
}

export function parsePeerId(value: string): PeerId {
  try {
    return peerIdFromString(value)
  } catch {
    throw new InvalidInputError(`not a peer ID: ${JSON.stringify(value)}`)
  }
}

/** A target is a multiaddr (starts with '/') or a peer ID. */
export function parseTarget(value: string): PeerId | Multiaddr {
  if (!value.startsWith('/')) return parsePeerId(value)
  try {
    return multiaddr(value)
  } catch {
    throw new InvalidInputError(`not a multiaddr: ${JSON.stringify(value)}`)
  }
}

export function isPeerId(target: PeerId | Multiaddr): target is PeerId {
  return typeof (target as PeerId).toMultihash === 'function'
}

/** The caller's signal, if any, combined with a deadline. */
export function withTimeout(options: AbortOptions, ms: number): { signal: AbortSignal } {
  const timeout = AbortSignal.timeout(ms)
  return { signal: options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]) }
}
