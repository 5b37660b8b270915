/**
 * Replay protection: an executor refuses an invocation whose CID it has seen. The record is
 * injected (a service may persist it); `createReplayGuard` is a bounded in-memory one. Each CID is
 * kept until its invocation's `exp` (plus the skew), after which the invocation is refused as
 * expired anyway; Lateral refuses invocations without an `exp`, so the record stays bounded.
 */
import { DEFAULT_UCAN_REPLAY_MAX_ENTRIES } from '../../core/constants.ts'
import { DelegationError } from '../../core/errors.ts'
import type { Awaitable } from './chain-rules.ts'

export interface ReplayGuard {
  /** Whether `cid` was claimed before (an early, cheap refusal; optional). */
  seen?(cid: string): Awaitable<boolean>
  /**
   * Record `cid` as used until `until` (seconds; null: as long as the record can), atomically:
   * false if it was already recorded. May throw DelegationError `ReplayStoreFull`.
   */
  claim(cid: string, until: number | null, now: number): Awaitable<boolean>
}

export interface ReplayGuardInit {
  /** CIDs held at most (DEFAULT_UCAN_REPLAY_MAX_ENTRIES). */
  maxEntries?: number
}

export interface MemoryReplayGuard extends ReplayGuard {
  readonly size: number
}

/**
 * A replay record in memory. When it is full of unexpired CIDs it refuses new invocations
 * (`ReplayStoreFull`) rather than forget one, which would let that one be replayed.
 */
export function createReplayGuard(init: ReplayGuardInit = {}): MemoryReplayGuard {
  const maxEntries = init.maxEntries ?? DEFAULT_UCAN_REPLAY_MAX_ENTRIES
  const until = new Map<string, number | null>()
  /** No entry expires before this: sweeping earlier would free nothing. */
  let nextExpiry = Number.POSITIVE_INFINITY

  function sweep(now: number): void {
    if (now <= nextExpiry) return
    nextExpiry = Number.POSITIVE_INFINITY
    for (const [cid, end] of until) {
      if (end !== null && end < now) until.delete(cid)
      else if (end !== null) nextExpiry = Math.min(nextExpiry, end)
    }
  }

  return {
    get size() {
      return until.size
    },
    seen: (cid) => until.has(cid),
    claim(cid, end, now) {
      if (until.has(cid)) return false
      if (until.size >= maxEntries) sweep(now)
      if (until.size >= maxEntries) {
        throw new DelegationError(
          `the replay record holds ${maxEntries} unexpired invocations: no new one is taken until some expire`,
          'ReplayStoreFull',
          { link: 'invocation', cid },
        )
      }
      until.set(cid, end)
      if (end !== null) nextExpiry = Math.min(nextExpiry, end)
      return true
    },
  }
}
