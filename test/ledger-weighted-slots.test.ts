// Weighted upload turns (src/content/weighted-slots.ts), the seam through which reputation orders
// service: peers that keep coming back share a slot in proportion to their weights, also when
// each comes back a moment after its turn (the slot waits for it briefly); equal weights share
// equally; a peer alone is never held back; an aborted wait leaves the queue.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setImmediate as tick } from 'node:timers/promises'
import { WeightedSlots } from '../src/content/weighted-slots.ts'

/**
 * Each key takes turns of 64 KiB until `totalTurns` are taken, holding each for one event-loop
 * turn and coming back `backTicks` turns after it ended (as a server's next block does).
 */
async function compete(
  slots: WeightedSlots,
  keys: string[],
  totalTurns: number,
  backTicks = 1,
): Promise<Map<string, number>> {
  const got = new Map(keys.map((k) => [k, 0]))
  let left = totalTurns
  await Promise.all(
    keys.map(async (key) => {
      while (left > 0) {
        const release = await slots.acquire(undefined, { key, cost: 64 * 1024 })
        if (left <= 0) {
          release()
          break
        }
        left--
        got.set(key, (got.get(key) ?? 0) + 1)
        await tick()
        release()
        for (let i = 0; i < backTicks; i++) await tick()
      }
    }),
  )
  return got
}

describe('weighted upload slots', () => {
  const weights: Record<string, number> = { a: 12, b: 12, c: 4 }
  const weight = (k: string) => weights[k] ?? 1
  const ratios = (got: Map<string, number>) => ['a', 'b'].map((k) => (got.get(k) ?? 0) / (got.get('c') ?? 1))

  it('peers share a slot in proportion to their weights', async () => {
    const got = await compete(new WeightedSlots(1, weight), ['a', 'b', 'c'], 280)
    for (const r of ratios(got)) assert.ok(r > 2.5 && r < 3.5, JSON.stringify([...got]))
  })

  it('also when peers come back some time after their turn: the slot waits for a returning peer', async () => {
    const got = await compete(new WeightedSlots(1, weight), ['a', 'b', 'c'], 280, 4)
    for (const r of ratios(got)) assert.ok(r > 2.5 && r < 3.5, JSON.stringify([...got]))
    // The control: a slot that never waits hands a turn to whoever is there, and the peers that
    // come back late lose their share.
    const eager = await compete(new WeightedSlots(1, weight, { rejoinMs: 0 }), ['a', 'b', 'c'], 280, 4)
    for (const r of ratios(eager)) assert.ok(r < 2, JSON.stringify([...eager]))
  })

  it('equal weights share equally', async () => {
    const equal = await compete(new WeightedSlots(1), ['a', 'b', 'c'], 300, 4)
    for (const n of equal.values()) assert.ok(n >= 90 && n <= 110, JSON.stringify([...equal]))
  })

  it('a peer alone is served at once; an aborted wait leaves the queue', async () => {
    const slots = new WeightedSlots(1, () => 1)
    const first = await slots.acquire(undefined, { key: 'a', cost: 1 })
    const controller = new AbortController()
    const waiting = slots.acquire(controller.signal, { key: 'b', cost: 1 })
    assert.equal(slots.waiting, 1)
    controller.abort(new Error('gone'))
    await assert.rejects(waiting, /gone/)
    assert.equal(slots.waiting, 0)
    first()
    const again = await slots.acquire(undefined, { key: 'a', cost: 1 })
    again()
  })
})
