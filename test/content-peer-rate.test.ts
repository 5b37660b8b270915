/**
 * A download peer's rate and request window (src/content/session-peer.ts). Blocks that queued up
 * while the downloader's event loop was busy are measured back to back: the rate must count the
 * stall with the burst (bytes over time across the last blocks), not average per-block rates, or
 * a 20 MiB/s peer looks many times faster, its requests look late at once and are copied to
 * other peers. And the window covers at least REQUEST_QUEUE_MS of the rate, not just the
 * shortest round trip seen.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SessionPeer } from '../src/content/session-peer.ts'
import { REQUEST_QUEUE_MS } from '../src/core/constants.ts'
import type { ProtocolStream } from '../src/net/types.ts'

const MiB = 1024 * 1024
const limits = { windowInitial: 8, windowMin: 8, windowMax: 32, timeoutsBeforeDrop: 3 }

/** A peer whose clock is `clock.now` (ms). */
function peerWithClock(t: { mock: { method: (o: object, name: string, f: () => number) => unknown } }) {
  const clock = { now: 1000 }
  t.mock.method(performance, 'now', () => clock.now)
  const peer = new SessionPeer('p', {} as ProtocolStream, clock.now, limits)
  return { peer, clock }
}

describe('download peer rate and window', () => {
  it('counts the stall before a burst of back-to-back blocks with the burst: a 20 MiB/s peer stays at 20 MiB/s', (t) => {
    const { peer, clock } = peerWithClock(t)
    // At 20 MiB/s, but the loop sees them in bursts of 4: a 200 ms gap, then 4 within 1 ms.
    const sentAt = clock.now
    for (let burst = 0; burst < 6; burst++) {
      clock.now += 200
      for (let k = 0; k < 4; k++) {
        clock.now += 0.25
        peer.measure(MiB, sentAt, MiB)
      }
    }
    const mibps = peer.rateBps / MiB
    assert.ok(mibps > 15 && mibps < 25, `${mibps.toFixed(1)} MiB/s`)
  })

  it('keeps at least REQUEST_QUEUE_MS of the rate asked, up to windowMax', (t) => {
    const { peer, clock } = peerWithClock(t)
    // 250 MiB/s with a 5 ms best round trip: 1.25 blocks by the round trip alone.
    let sentAt = clock.now
    for (let i = 0; i < 10; i++) {
      clock.now += 4
      peer.measure(MiB, sentAt, MiB)
      sentAt = clock.now - 1
    }
    const expected = Math.ceil((peer.rateBps * REQUEST_QUEUE_MS) / 1000 / MiB) + 2
    assert.ok(peer.rateBps / MiB > 200, `${(peer.rateBps / MiB).toFixed(0)} MiB/s`)
    assert.equal(peer.window, Math.min(limits.windowMax, expected))
    assert.ok(peer.window >= 20, `window ${peer.window}`)
    // A slow peer stays at windowMin.
    const slow = peerWithClock(t)
    for (let i = 0; i < 10; i++) {
      const at = slow.clock.now
      slow.clock.now += 100
      slow.peer.measure(MiB, at, MiB)
    }
    assert.equal(slow.peer.window, limits.windowMin)
  })
})
