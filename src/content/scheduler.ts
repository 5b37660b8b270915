/**
 * Which blocks to ask a peer for: rarest first among the next wanted blocks, then, once every
 * block has been asked for, end-game copies of the requests that are running late.
 */
import type { CID } from 'multiformats/cid'
import type { SessionLimits } from './session-limits.ts'
import type { SessionPeer } from './session-peer.ts'
import type { Inflight, WantList } from './want-list.ts'

/**
 * A request is not duplicated in the end-game before it is this late, ms: a margin over the
 * predicted time (timer and measurement jitter), not a limit worth a setting.
 */
const END_GAME_GRACE_MS = 50

export interface SchedulerContext {
  wants: WantList
  /** How far into the wanted list (DAG order) to look for the rarest block; copies per block in the end-game. */
  limits: Pick<SessionLimits, 'rarestFirstScan' | 'endGameDuplicates'>
  peer(id: string): SessionPeer | undefined
  /** Mean size of the blocks received so far (a guess before the first). */
  avgBlock: number
  /** A request's expected time when nothing is measured yet, ms. */
  fallbackMs: number
}

/** Up to `n` blocks for this peer. */
export function pickBlocks(peer: SessionPeer, n: number, ctx: SchedulerContext): CID[] {
  const { wants } = ctx
  const { rarestFirstScan, endGameDuplicates } = ctx.limits
  const scored: Array<{ cid: CID; score: number }> = []
  let order = 0
  for (const [key, cid] of wants.pending) {
    if (order >= rarestFirstScan) break
    order++
    if (wants.lacks(key, peer.id)) continue
    const holders = wants.holders(key)
    const known = holders?.has(peer.id) === true
    // Known holders before unknown; fewer holders first; DAG order breaks ties.
    scored.push({ cid, score: (known ? 0 : 1_000_000) + (holders?.size ?? 0) * 1000 + order })
  }
  scored.sort((a, b) => a.score - b.score)
  const picks = scored.slice(0, n).map((s) => s.cid)
  if (picks.length >= n || wants.pending.size > picks.length) return picks
  // End-game: everything is asked for. Duplicate a request only when its peer is late on it
  // (older than 1.5x what that peer's rate and queue predict), so fast peers finish the tail.
  const now = performance.now()
  const extra = [...wants.inflight.entries()]
    .filter(
      ([key, f]) =>
        !f.askedOf.has(peer.id) &&
        f.askedOf.size < endGameDuplicates &&
        !wants.lacks(key, peer.id) &&
        !wants.storing.has(key) &&
        now - oldest(f) > 1.5 * expectedMs(f, ctx) + END_GAME_GRACE_MS,
    )
    .sort((a, b) => a[1].askedOf.size - b[1].askedOf.size || oldest(a[1]) - oldest(b[1]))
    .slice(0, n - picks.length)
    .map(([, f]) => f.cid)
  return [...picks, ...extra]
}

/** How long the peers asked for a block should take to send it, by their rate and queue. */
function expectedMs(f: Inflight, ctx: SchedulerContext): number {
  let best = Number.POSITIVE_INFINITY
  for (const id of f.askedOf.keys()) {
    const p = ctx.peer(id)
    if (p === undefined || p.rateBps <= 0) continue
    best = Math.min(best, p.expectedMs(ctx.avgBlock))
  }
  return Number.isFinite(best) ? best : ctx.fallbackMs
}

function oldest(f: Inflight): number {
  let min = Number.POSITIVE_INFINITY
  for (const at of f.askedOf.values()) min = Math.min(min, at)
  return min
}
