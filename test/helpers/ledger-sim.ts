/**
 * A receipt graph to simulate reputation on (test/ledger-sybil.test.ts, bench/ledger.ts):
 * honest peers that give each other, free-riders that only take, and a Sybil region of fakes
 * that sign whatever receipts they like among themselves and are attached to the honest region
 * by a few real edges (fakes that really served some honest peers). Seeded: the same graph every run.
 */
import { ReceiptGraph } from '../../src/ledger/index.ts'

const MiB = 1024 * 1024

export interface SimInit {
  honest: number
  freeRiders: number
  sybils: number
  /** Honest peers each gives to this many others. */
  degree: number
  /** Fakes that really served honest peers, each one honest peer. */
  attackEdges: number
  /** What each of those really gave, bytes. */
  attackBytes: number
  /** Receipts each fake signs with other fakes (any amount they like). */
  sybilDegree: number
  seed: number
}

export const DEFAULT_SIM: SimInit = {
  honest: 800,
  freeRiders: 100,
  sybils: 100,
  degree: 8,
  attackEdges: 3,
  attackBytes: 64 * MiB,
  sybilDegree: 10,
  seed: 14,
}

export interface Sim {
  graph: ReceiptGraph
  honest: string[]
  freeRiders: string[]
  sybils: string[]
  /** c(S -> X) for every X: bytes the Sybil region gave each non-Sybil peer (the attack edges). */
  fromSybils: Map<string, number>
}

export function simulate(init: Partial<SimInit> = {}): Sim {
  const o = { ...DEFAULT_SIM, ...init }
  let s = o.seed
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  }
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)] as T
  const honest = Array.from({ length: o.honest }, (_, i) => `honest-${i}`)
  const freeRiders = Array.from({ length: o.freeRiders }, (_, i) => `free-${i}`)
  const sybils = Array.from({ length: o.sybils }, (_, i) => `fake-${i}`)
  const graph = new ReceiptGraph(undefined, Number.MAX_SAFE_INTEGER)
  const others = [...honest, ...freeRiders]
  for (const a of honest) {
    for (let d = 0; d < o.degree; d++) {
      const b = pick(others)
      if (b === a) continue
      const ab = Math.round((1 + rand() * 99) * MiB)
      // Honest peers give back; free-riders never do.
      const ba = b.startsWith('honest') ? Math.round(rand() * 100 * MiB) : 0
      graph.add(a, b, 'blocks', ab, ba)
    }
  }
  // Free-riders take from honest peers (above) and give nothing.
  for (const a of sybils) {
    for (let d = 0; d < o.sybilDegree; d++) {
      const b = pick(sybils)
      if (b !== a) graph.add(a, b, 'blocks', 1024 ** 4, 1024 ** 4) // a TiB each way, signed by fakes
    }
  }
  const fromSybils = new Map<string, number>()
  for (let e = 0; e < o.attackEdges; e++) {
    const fake = sybils[e % sybils.length] as string
    const victim = pick(honest)
    graph.add(fake, victim, 'blocks', o.attackBytes, 0)
    fromSybils.set(victim, (fromSybils.get(victim) ?? 0) + o.attackBytes)
  }
  return { graph, honest, freeRiders, sybils, fromSybils }
}

/**
 * The bound of docs/protocols/ledger.md for observer i: 2 c(S -> i) plus, over i's
 * non-Sybil counterparties k that gave it something, c(S -> k).
 */
export function sybilBound(sim: Sim, observer: string): number {
  const sybil = new Set(sim.sybils)
  let bound = 2 * (sim.fromSybils.get(observer) ?? 0)
  for (const [k] of sim.graph.inOf(observer)) if (!sybil.has(k)) bound += sim.fromSybils.get(k) ?? 0
  return bound
}
