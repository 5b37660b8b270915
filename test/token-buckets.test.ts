/** The one token bucket of the code base (src/core/token-buckets.ts): burst, refill, wait, bound. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TokenBuckets } from '../src/core/token-buckets.ts'

describe('token buckets', () => {
  it('gives a burst, then refills at the rate', () => {
    const b = new TokenBuckets(3, 2, 10) // 3 at once, 2 a second
    const t = 1_000_000
    assert.deepEqual(
      [b.take('a', 1, t), b.take('a', 1, t), b.take('a', 1, t), b.take('a', 1, t)],
      [true, true, true, false],
    )
    assert.equal(b.take('a', 1, t + 499), false, 'not yet a whole token')
    assert.equal(b.take('a', 1, t + 500), true, 'one token after 500 ms')
    assert.equal(b.take('b', 1, t), true, 'keys are independent')
    assert.equal(b.take('a', 5, t + 60_000), false, 'never more than the burst')
  })

  it('says how long until a refused cost fits', () => {
    const b = TokenBuckets.perMinute(6, 10) // a token every 10 s
    const t = 5_000
    for (let i = 0; i < 6; i++) assert.deepEqual(b.tryTake('p', 1, t), { ok: true })
    assert.deepEqual(b.tryTake('p', 1, t), { ok: false, retryAfterMs: 10_000 })
    assert.deepEqual(b.tryTake('p', 1, t + 4_000), { ok: false, retryAfterMs: 6_000 })
    assert.deepEqual(b.tryTake('p', 1, t + 10_000), { ok: true })
  })

  it('keeps at most maxKeys buckets: full ones go first, then the least recently used', () => {
    const b = new TokenBuckets(2, 1, 3)
    const t = 0
    b.take('busy', 2, t) // empty: worth keeping
    b.take('idle', 1, t)
    b.take('other', 2, t)
    for (let i = 0; i < 1_000; i++) b.take(`new${i}`, 2, t + 10) // a stream of new keys
    assert.ok(b.size <= 3, `kept ${b.size}`)
    // A key seen again after it was forgotten comes back full: at most one burst more.
    assert.equal(b.take('busy', 2, t + 10), true)
  })
})
