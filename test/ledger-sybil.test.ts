// Simulation (issue 14): a 1,000-node receipt graph (800 honest peers, 100 free-riders, a Sybil
// region of 100 fakes that sign terabytes of receipts among themselves, attached by 3 real
// edges). Seen by every honest peer, the fakes' total reputation stays within the bound of
// docs/protocols/ledger.md (2 c(S -> i) + c(S -> i's honest counterparties)), whatever their
// number; BarterCast's per-peer max-flow, computed alone for each fake, exceeds it many times
// (so the bound is what the shared capacity buys). Free-riders are never contributors.
// `npm run bench -- ledger` draws the same as the number of fakes grows.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { computeReputation, independentFlow } from '../src/ledger/index.ts'
import { simulate, sybilBound } from './helpers/ledger-sim.ts'

const MiB = 1024 * 1024

describe('ledger: Sybil simulation', () => {
  it('the fakes’ total reputation seen by honest peers stays within the bound; BarterCast alone would not', (t) => {
    const sim = simulate()
    assert.equal(sim.honest.length + sim.freeRiders.length + sim.sybils.length, 1000)
    let worst = 0
    let worstNaive = 0
    let naiveOver = 0
    let totalBound = 0
    for (const i of [...sim.honest, ...sim.freeRiders]) {
      const table = computeReputation(sim.graph, i, 2)
      const fakes = sim.sybils.reduce((n, s) => n + (table.get(s)?.gave ?? 0), 0)
      const naive = sim.sybils.reduce((n, s) => n + independentFlow(sim.graph, i, s), 0)
      const bound = sybilBound(sim, i)
      assert.ok(fakes <= bound + 1, `${i}: fakes have ${fakes} B, the bound is ${bound} B`)
      worst = Math.max(worst, fakes)
      worstNaive = Math.max(worstNaive, naive)
      totalBound = Math.max(totalBound, bound)
      if (naive > bound + 1) naiveOver++
    }
    const attack = [...sim.fromSybils.values()].reduce((a, b) => a + b, 0)
    t.diagnostic(
      `fakes' reputation, most seen by one honest peer: ${(worst / MiB).toFixed(1)} MiB (its bound ${(totalBound / MiB).toFixed(1)} MiB; the fakes really gave ${(attack / MiB).toFixed(0)} MiB in all); BarterCast per fake: ${(worstNaive / MiB).toFixed(0)} MiB, over the bound at ${naiveOver} peers`,
    )
    assert.ok(worst > 0, 'the fakes that really served someone have some reputation')
    assert.ok(worst <= 2 * attack, 'never more than twice what the Sybil region really gave')
    assert.ok(naiveOver > 0 && worstNaive > 4 * worst, 'without sharing, a crowd of fakes multiplies one real edge')
  })

  it('the bound does not grow with the number of fakes', () => {
    const worstFor = (sybils: number) => {
      const sim = simulate({ sybils })
      let worst = 0
      for (const i of sim.honest) {
        const table = computeReputation(sim.graph, i, 2)
        worst = Math.max(
          worst,
          sim.sybils.reduce((n, s) => n + (table.get(s)?.gave ?? 0), 0),
        )
      }
      return worst
    }
    const few = worstFor(10)
    const many = worstFor(100)
    assert.ok(many <= few * 1.01 + 1, `10 fakes: ${few} B, 100 fakes: ${many} B`)
  })

  it('free-riders have nothing to show; honest givers do', () => {
    const sim = simulate()
    const observer = sim.honest[0] as string
    const table = computeReputation(sim.graph, observer, 2)
    for (const f of sim.freeRiders) assert.equal(table.get(f)?.gave ?? 0, 0)
    const givers = sim.honest.filter((h) => (table.get(h)?.gave ?? 0) > 0)
    assert.ok(givers.length > 0)
  })
})
