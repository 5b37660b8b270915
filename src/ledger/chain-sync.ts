/**
 * Fetch another device's chain over `/lateral/ledger/1.0.0`, page by page, and verify every
 * entry before it is used: each half signed by that device, positions consecutive from the one
 * asked, each `prev` the CID of the half before, and each counterparty half signed by the
 * counterparty and mirroring the owner's half. The first entry that fails ends the fetch and
 * names the problem; what came before it was verified and is kept.
 */
import type { CID } from 'multiformats/cid'
import { InvalidInputError } from '../core/errors.ts'
import type { Net } from '../net/index.ts'
import { ask } from './ask.ts'
import { checkAgreement, type SignedHalf, verifyHalf } from './receipt.ts'
import type { ChainEntryBytes } from './wire.ts'

export interface VerifiedEntry {
  seq: number
  half: SignedHalf
  other?: SignedHalf
}

/** Where a fetch starts: the next position and the CID of the half before it (null at 1). */
export interface ChainPosition {
  seq: number
  prev: CID | null
}

export interface ChainFetch {
  /** The chain's length as its owner answered. */
  length: number
  /** Entries verified in this fetch. */
  verified: number
  /** Where the next fetch should start (after the last verified entry). */
  next: ChainPosition
  /** Why verification stopped before the end, if it did: the chain is invalid from there. */
  error?: string
}

export interface FetchInit {
  /** Entries asked per page. */
  pageEntries: number
  /** Entries verified at most in this fetch. */
  maxEntries: number
  /** Each page's request gives up after this, ms. */
  timeoutMs: number
  signal: AbortSignal
}

export async function fetchChain(
  net: Pick<Net, 'openStream'>,
  owner: string,
  from: ChainPosition,
  init: FetchInit,
  onEntry: (entry: VerifiedEntry) => void | Promise<void>,
): Promise<ChainFetch> {
  let next = from
  let verified = 0
  let length = 0
  while (verified < init.maxEntries) {
    const max = Math.min(init.pageEntries, init.maxEntries - verified)
    const signal = AbortSignal.any([init.signal, AbortSignal.timeout(init.timeoutMs)])
    const answer = await ask(net, owner, { t: 'chain', from: next.seq, max }, signal)
    if (answer.t === 'refused') throw new InvalidInputError(`${owner} refused its chain: ${answer.error}`)
    if (answer.t !== 'page') throw new InvalidInputError(`${owner} answered a chain request with "${answer.t}"`)
    length = answer.length
    if (next.seq > length) break
    if (answer.entries.length === 0) {
      return { length, verified, next, error: `the chain stops at ${next.seq - 1} but claims ${length} entries` }
    }
    for (const bytes of answer.entries) {
      let entry: VerifiedEntry
      try {
        entry = verifyEntry(owner, next, bytes)
      } catch (err) {
        return { length, verified, next, error: `entry ${next.seq}: ${(err as Error).message}` }
      }
      await onEntry(entry)
      verified++
      next = { seq: entry.seq + 1, prev: entry.half.cid }
    }
  }
  return { length, verified, next }
}

/** Verify one entry of `owner`'s chain at position `at`. */
export function verifyEntry(owner: string, at: ChainPosition, bytes: ChainEntryBytes): VerifiedEntry {
  const half = verifyHalf(bytes.h)
  const h = half.payload
  if (h.dev !== owner) throw new InvalidInputError('a half signed by another device')
  if (h.seq !== at.seq) throw new InvalidInputError(`position ${h.seq} where ${at.seq} was due`)
  const prevOk = at.prev === null ? h.prev === null : h.prev?.equals(at.prev) === true
  if (!prevOk) throw new InvalidInputError('"prev" is not the CID of the half before')
  if (bytes.o === undefined) return { seq: h.seq, half }
  const other = verifyHalf(bytes.o)
  if (h.link !== undefined) checkAgreement(other, half)
  else checkAgreement(half, other)
  return { seq: h.seq, half, other }
}
