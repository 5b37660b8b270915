/**
 * Which blocks to ask a peer for: rarest first among the next wanted blocks, then, once every
 * block has been asked for, end-game copies of the requests that are running late or that this
 * peer would deliver sooner than the peers already asked.
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
/**
 * A request queued elsewhere is copied to a peer only if that peer's predicted delivery, times
 * this factor plus the margin, is still before the holders' (both are estimates from smoothed
 * rates).
 */
const END_GAME_SOONER_FACTOR = 1.25
const END_GAME_SOONER_MARGIN_MS = 10

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
  const { rarestFirstScan } = ctx.limits
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
  return [...picks, ...endGame(peer, n - picks.length, picks.length, ctx)]
}

/**
 * End-game: everything is asked for. A request is copied to this peer when its peers are late on
 * it (older than 1.5x what their rate and queue predict), or when this peer, by its own rate and
 * queue, would deliver it clearly sooner than they are expected to: the tail of a longer queue
 * elsewhere, so the peers finish together instead of one idling while another still has blocks
 * to send. The first copy to arrive wins; the others are cancelled.
 */
function endGame(peer: SessionPeer, room: number, picked: number, ctx: SchedulerContext): CID[] {
  const { wants } = ctx
  const now = performance.now()
  const candidates: Array<{ f: Inflight; late: boolean; theirs: number }> = []
  for (const [key, f] of wants.inflight) {
    if (f.askedOf.has(peer.id) || f.askedOf.size >= ctx.limits.endGameDuplicates) continue
    if (wants.lacks(key, peer.id) || wants.storing.has(key)) continue
    if (now - oldest(f) > 1.5 * expectedMs(f, ctx) + END_GAME_GRACE_MS) {
      candidates.push({ f, late: true, theirs: Number.POSITIVE_INFINITY })
      continue
    }
    const theirs = arrivalMs(f, key, ctx)
    if (theirs !== undefined && peer.rateBps > 0) candidates.push({ f, late: false, theirs })
  }
  // Late ones first (fewest copies, then oldest), then those expected last.
  candidates.sort(
    (a, b) =>
      Number(b.late) - Number(a.late) ||
      a.f.askedOf.size - b.f.askedOf.size ||
      b.theirs - a.theirs ||
      oldest(a.f) - oldest(b.f),
  )
  const extra: CID[] = []
  const queued = peer.requests.size + picked
  for (const c of candidates) {
    if (extra.length >= room) break
    if (!c.late) {
      // This peer's own queue grows with each copy it takes.
      const mine = (((queued + extra.length + 1) * ctx.avgBlock) / peer.rateBps) * 1000
      if (mine * END_GAME_SOONER_FACTOR + END_GAME_SOONER_MARGIN_MS >= c.theirs) continue
    }
    extra.push(c.f.cid)
  }
  return extra
}

/** When the earliest of the peers asked for a block should send it, by their queues and rates. */
function arrivalMs(f: Inflight, key: string, ctx: SchedulerContext): number | undefined {
  let best: number | undefined
  for (const id of f.askedOf.keys()) {
    const at = ctx.peer(id)?.arrivalMs(key, ctx.avgBlock)
    if (at !== undefined) best = Math.min(best ?? at, at)
  }
  return best
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
