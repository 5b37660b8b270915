/**
 * Subjective reputation (docs/protocols/ledger.md, "Reputation"): what a peer gave, as this node
 * sees it from its own place in the receipt graph, is the flow of contribution from that peer to
 * this node along paths of at most two hops (BarterCast's bound): what it gave this node
 * directly, plus, through each counterparty k of this node, what it gave k, up to what k gave
 * this node.
 *
 * One difference with BarterCast makes the flows of all peers together one feasible flow: the
 * capacity of each edge k -> me that carries other peers' contribution is shared among them
 * (in proportion to what each could send through it), instead of being counted again for each
 * peer. So a crowd of fake identities behind one peer that really served this node gains, all
 * together, what that peer gave, not that times the crowd's size. The bound, for a set S of
 * peers (a Sybil region) and this node i, with c(X -> Y) the co-signed bytes from X to Y:
 *
 *     sum over s in S of gave(s)  <=  2 c(S -> i) + sum over honest counterparties k of i of c(S -> k)
 *
 * whatever the number of peers in S and whatever receipts they sign among themselves (the
 * simulation in test/ledger-sybil.test.ts and `npm run bench -- ledger` show it). `took` is the
 * same flow in the other direction (from this node to the peer); the score is gave - took.
 */
import type { FlowGraph } from './receipt-graph.ts'

export interface Flow {
  /** Bytes of contribution flowing from the peer to this node. */
  gave: number
  /** Bytes of contribution flowing from this node to the peer. */
  took: number
}

/** One path of an explanation: the peers it goes through (none: direct) and what it carries. */
export interface FlowPath {
  via: string[]
  bytes: number
  /** What the path could carry alone (its narrowest edge). */
  capacity: number
  /** True when its last edge was shared with other peers' paths, so it carries less than `capacity`. */
  shared: boolean
}

export interface FlowExplanation {
  gave: FlowPath[]
  took: FlowPath[]
}

/** Every peer's flows as seen from `me`, over paths of at most `maxHops` (1 or 2). */
export function computeReputation(graph: FlowGraph, me: string, maxHops: number): Map<string, Flow> {
  const table = new Map<string, Flow>()
  const entry = (peer: string) => {
    let f = table.get(peer)
    if (f === undefined) {
      f = { gave: 0, took: 0 }
      table.set(peer, f)
    }
    return f
  }
  for (const [k, c] of graph.inOf(me)) entry(k).gave += c
  for (const [k, c] of graph.outOf(me)) entry(k).took += c
  if (maxHops < 2) return table
  for (const [k, ckMe] of graph.inOf(me)) {
    const { demands, scale } = relayThrough(graph.inOf(k), ckMe, me, k)
    for (const [j, d] of demands) entry(j).gave += d * scale
  }
  for (const [k, cMeK] of graph.outOf(me)) {
    const { demands, scale } = relayThrough(graph.outOf(k), cMeK, me, k)
    for (const [j, d] of demands) entry(j).took += d * scale
  }
  return table
}

/** The paths that make up one peer's flows, each with what it carries. */
export function explainReputation(graph: FlowGraph, me: string, peer: string, maxHops: number): FlowExplanation {
  return {
    gave: paths(me, peer, maxHops, graph.inOf(me), (k) => graph.inOf(k)),
    took: paths(me, peer, maxHops, graph.outOf(me), (k) => graph.outOf(k)),
  }
}

/**
 * BarterCast's own two-hop max-flow for one peer, each peer computed alone (no sharing): the
 * comparison the simulation shows. Not used to serve anyone.
 */
export function independentFlow(graph: FlowGraph, me: string, peer: string): number {
  let flow = graph.inOf(me).get(peer) ?? 0
  for (const [k, ckMe] of graph.inOf(me)) {
    if (k === peer) continue
    flow += Math.min(graph.inOf(k).get(peer) ?? 0, ckMe)
  }
  return flow
}

function paths(
  me: string,
  peer: string,
  maxHops: number,
  mine: ReadonlyMap<string, number>,
  edgesOf: (k: string) => ReadonlyMap<string, number>,
): FlowPath[] {
  const out: FlowPath[] = []
  const direct = mine.get(peer)
  if (direct !== undefined && direct > 0) out.push({ via: [], bytes: direct, capacity: direct, shared: false })
  if (maxHops < 2) return out
  for (const [k, cK] of mine) {
    if (k === peer) continue
    const { demands, scale } = relayThrough(edgesOf(k), cK, me, k)
    const d = demands.get(peer)
    if (d === undefined || d <= 0) continue
    out.push({ via: [k], bytes: d * scale, capacity: d, shared: scale < 1 })
  }
  return out.sort((a, b) => b.bytes - a.bytes)
}

/**
 * What each peer j could send through k (min of its edge with k and k's edge with me), and the
 * scale that fits them all into k's edge with me.
 */
function relayThrough(
  edges: ReadonlyMap<string, number>,
  capacity: number,
  me: string,
  k: string,
): { demands: Map<string, number>; scale: number } {
  const demands = new Map<string, number>()
  let total = 0
  for (const [j, c] of edges) {
    if (j === me || j === k) continue
    const d = Math.min(c, capacity)
    if (d <= 0) continue
    demands.set(j, d)
    total += d
  }
  return { demands, scale: total > capacity ? capacity / total : 1 }
}
