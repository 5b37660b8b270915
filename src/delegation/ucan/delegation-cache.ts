/**
 * Memoized verification (UCAN "Memoized Validation"): a delegation's envelope, shape and
 * signature checks depend on its bytes alone, and its CID is the hash of those bytes, so a
 * delegation verified once need not be verified again. A chain used by many invocations then
 * costs one signature check (the invocation's) instead of one per link. Time bounds, alignment,
 * revocations and removed devices are still checked at every use. Keep one cache per set of
 * limits: an entry was verified under the limits in force when it was added.
 */
import { DEFAULT_UCAN_VERIFIED_CACHE_ENTRIES } from '../../core/constants.ts'
import type { Delegation } from './delegation.ts'

export interface DelegationCache {
  get(cid: string): Delegation | undefined
  set(delegation: Delegation): void
}

export interface DelegationCacheInit {
  /** Delegations kept at most (DEFAULT_UCAN_VERIFIED_CACHE_ENTRIES); the least recently used go first. */
  maxEntries?: number
}

export function createDelegationCache(init: DelegationCacheInit = {}): DelegationCache & { readonly size: number } {
  const maxEntries = init.maxEntries ?? DEFAULT_UCAN_VERIFIED_CACHE_ENTRIES
  const entries = new Map<string, Delegation>()
  return {
    get size() {
      return entries.size
    },
    get(cid) {
      const hit = entries.get(cid)
      if (hit !== undefined) {
        // Map order is insertion order: re-inserting marks it most recently used.
        entries.delete(cid)
        entries.set(cid, hit)
      }
      return hit
    },
    set(delegation) {
      entries.delete(delegation.cid)
      entries.set(delegation.cid, delegation)
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string)
    },
  }
}
