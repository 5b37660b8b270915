/**
 * This node's reputation table, kept ready for the content service's questions (asked for every
 * upload turn, so answered from memory): computed from the receipt graph (reputation.ts) again
 * when the graph changed, at most once per `reputationRefreshMs`.
 */
import type { ForkProof } from './fork-watch.ts'
import { forkView } from './present.ts'
import type { ReceiptGraph } from './receipt-graph.ts'
import { computeReputation, explainReputation, type Flow } from './reputation.ts'
import { preferenceOf, type Standing, standingOf, weightOf } from './standing.ts'
import type { PathView, ReputationView } from './views.ts'

export interface BookComponents {
  graph: ReceiptGraph
  /** This node's device. */
  me: string
  refuses(peer: string): boolean
  isNonSigner(peer: string): boolean
}

export interface BookInit {
  maxHops: number
  reputationUnitBytes: number
  reputationRefreshMs: number
}

type Judged = Omit<ReputationView, 'target' | 'devices' | 'identity' | 'contact'>

export class ReputationBook {
  readonly #c: BookComponents
  readonly #init: BookInit
  #table = new Map<string, Flow>()
  #version = -1
  #at = 0

  constructor(components: BookComponents, init: BookInit) {
    this.#c = components
    this.#init = init
  }

  /** Every peer's flows, as of at most `reputationRefreshMs` ago (`fresh`: as of now). */
  table(fresh = false): Map<string, Flow> {
    const { graph } = this.#c
    const now = Date.now()
    const stale = fresh || this.#version < 0 || now - this.#at >= this.#init.reputationRefreshMs
    if (graph.version !== this.#version && stale) {
      this.#version = graph.version
      this.#at = now
      this.#table = computeReputation(graph, this.#c.me, this.#init.maxHops)
    }
    return this.#table
  }

  standing(peer: string): Standing {
    return standingOf(this.table().get(peer), this.#c.refuses(peer), this.#c.isNonSigner(peer))
  }

  weight(peer: string): number {
    const flow = this.table().get(peer)
    const standing = standingOf(flow, this.#c.refuses(peer), this.#c.isNonSigner(peer))
    return weightOf(standing, (flow?.gave ?? 0) - (flow?.took ?? 0), this.#init.reputationUnitBytes)
  }

  preference(peer: string): number {
    return preferenceOf(this.standing(peer))
  }

  /** Peers with flows either way. */
  known(): string[] {
    return [...this.table(true).keys()]
  }

  /** The standing of a peer (its devices together), with the paths its flows take when asked. */
  view(devices: string[], explain: boolean, proofOf: (peer: string) => ForkProof | undefined): Judged {
    const table = this.table(true)
    const flow = { gave: 0, took: 0 }
    for (const d of devices) {
      flow.gave += table.get(d)?.gave ?? 0
      flow.took += table.get(d)?.took ?? 0
    }
    const proof = devices.map(proofOf).find((p) => p !== undefined)
    const refused = devices.some((d) => this.#c.refuses(d))
    const standing = standingOf(
      flow,
      refused,
      devices.some((d) => this.#c.isNonSigner(d)),
    )
    const score = flow.gave - flow.took
    const judged: Judged = {
      standing,
      gave: Math.round(flow.gave),
      took: Math.round(flow.took),
      score: Math.round(score),
      weight: Math.round(weightOf(standing, score, this.#init.reputationUnitBytes) * 100) / 100,
      ...(proof === undefined ? {} : { fork: forkView(proof) }),
    }
    if (!explain) return judged
    const gave: PathView[] = []
    const took: PathView[] = []
    for (const device of devices) {
      const e = explainReputation(this.#c.graph, this.#c.me, device, this.#init.maxHops)
      for (const p of e.gave) gave.push({ device, ...p, bytes: Math.round(p.bytes) })
      for (const p of e.took) took.push({ device, ...p, bytes: Math.round(p.bytes) })
    }
    return { ...judged, explanation: { gave, took } }
  }
}
