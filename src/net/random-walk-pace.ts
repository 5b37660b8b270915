/**
 * Paces libp2p's random walk. The walk (libp2p's RandomWalk, used by the relay transport to find
 * relays while a reservation is unmet and by AutoNAT v2 to find peers to ask) runs DHT lookups
 * for random keys back to back, with no pause, for as long as anyone walks. On a network of a
 * few peers every lookup asks the same peers again: measured in one process with a relay and two
 * peers, the relay's unmet reservation made it open about 350 DHT streams to each peer within
 * 6 s, and both peers banned it for flooding (src/net/peer-guard.ts), which cut the relayed
 * connection between them. The same happened between hosts of the NAT lab.
 *
 * Here the walk's lookups start at least RANDOM_WALK_MIN_INTERVAL_MS apart, and while they find
 * no peer the walk had not seen before, twice as far apart each time, up to
 * RANDOM_WALK_MAX_INTERVAL_MS. A lookup that finds a new peer brings the pace back to the minimum.
 */
import type { AbortOptions, PeerInfo } from '@libp2p/interface'
import { sleep as abortSleep } from '../core/abort.ts'
import { RANDOM_WALK_MAX_INTERVAL_MS, RANDOM_WALK_MIN_INTERVAL_MS, RANDOM_WALK_SEEN_PEERS } from '../core/constants.ts'

interface WalkRouting {
  getClosestPeers(key: Uint8Array, options?: AbortOptions): AsyncIterable<PeerInfo>
}

/** The part of libp2p's components paced here: its RandomWalk keeps the peer routing it walks with. */
export interface RandomWalkComponents {
  randomWalk: unknown
}

export interface WalkPace {
  minIntervalMs?: number
  maxIntervalMs?: number
  /** For tests: the clock and the wait. */
  now?: () => number
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
}

/** Make `routing.getClosestPeers` keep the walk's pace (exported for tests; see pacedRandomWalk). */
export function pacedRouting(routing: WalkRouting, pace: WalkPace = {}): WalkRouting {
  const min = pace.minIntervalMs ?? RANDOM_WALK_MIN_INTERVAL_MS
  const max = pace.maxIntervalMs ?? RANDOM_WALK_MAX_INTERVAL_MS
  const now = pace.now ?? Date.now
  const sleep = pace.sleep ?? abortSleep
  const seen = new Set<string>()
  let next = 0
  let interval = min
  return {
    async *getClosestPeers(key, options = {}) {
      const wait = next - now()
      if (wait > 0) await sleep(wait, options.signal ?? undefined)
      let fresh = false
      try {
        for await (const peer of routing.getClosestPeers(key, options)) {
          const id = peer.id.toString()
          if (!seen.has(id)) {
            fresh = true
            seen.add(id)
            if (seen.size > RANDOM_WALK_SEEN_PEERS) seen.delete(seen.values().next().value as string)
          }
          yield peer
        }
      } finally {
        interval = fresh ? min : Math.min(max, interval * 2)
        next = now() + interval
      }
    },
  }
}

/**
 * Pace the random walk of the node these components belong to. Reached through libp2p's
 * RandomWalk instance (its `peerRouting` field, not part of libp2p's interface), checked at run
 * time so that an upgrade that moves it fails loudly here.
 */
export function pacedRandomWalk(components: RandomWalkComponents, pace: WalkPace = {}): void {
  const walk = components.randomWalk as { peerRouting?: Partial<WalkRouting> } | undefined
  const routing = walk?.peerRouting
  if (walk === undefined || typeof routing?.getClosestPeers !== 'function') {
    throw new Error("this libp2p version's random walk does not keep its peer routing where Lateral expects it")
  }
  walk.peerRouting = pacedRouting(routing as WalkRouting, pace)
}
