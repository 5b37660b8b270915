/** src/content/read-pool.ts: buffers handed out again only once given back, none kept when idle. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { ReadPool } from '../src/content/read-pool.ts'

describe('read pool', () => {
  it('hands out a buffer again only after it came back, and keeps at most maxFree', () => {
    const pool = new ReadPool({ bufferBytes: 1024, maxFree: 2, idleMs: 60_000 })
    const a = pool.take()
    const b = pool.take()
    assert.notEqual(a, b)
    assert.equal(a.byteLength, 1024)
    // Out: a fresh one each time.
    const c = pool.take()
    assert.ok(c !== a && c !== b)
    pool.give(a)
    pool.give(b)
    pool.give(c) // beyond maxFree: dropped
    const again = [pool.take(), pool.take(), pool.take()]
    assert.ok(again.includes(a) && again.includes(b))
    assert.ok(!again.includes(c), 'the third came back beyond maxFree and was not kept')
    assert.deepEqual(pool.stats, { reused: 2, made: 4 })
  })

  it('drops its free buffers once no buffer has been taken for idleMs', async () => {
    const pool = new ReadPool({ bufferBytes: 16, maxFree: 4, idleMs: 50 })
    const a = pool.take()
    pool.give(a)
    await delay(150)
    assert.notEqual(pool.take(), a, 'the idle pool kept nothing')
    assert.equal(pool.stats.reused, 0)
  })
})
