import assert from 'node:assert/strict'
import { test } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { BLOCKS_PROTOCOL } from '../src/content/blocks-message.ts'
import { PeerGuard } from '../src/net/peer-guard.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'
import { createRawPeer } from './helpers/raw-peer.ts'

test('a peer is banned once at the threshold, and the ban expires', () => {
  const bans: string[] = []
  const guard = new PeerGuard({ banPenalty: 10, banMs: 1_000 })
  guard.onBan((b) => bans.push(b.peerId))
  guard.penalize('p', 9, 'x', 0)
  assert.equal(guard.isBanned('p', 0), false)
  guard.penalize('p', 1, 'x', 0)
  guard.penalize('p', 5, 'x', 0)
  assert.deepEqual(bans, ['p'], 'banned once, not at every later offence')
  assert.equal(guard.isBanned('p', 999), true)
  assert.equal(guard.isBanned('p', 1_000), false)
  assert.deepEqual(guard.bans(1_000), [])
})

test('a hang-up holds a peer refused until it expires or is lifted; a hold of 0 holds nothing', () => {
  const guard = new PeerGuard({ hangUpHoldMs: 1_000, maxBans: 2 })
  assert.equal(guard.hold('p', 0), 1_000)
  assert.equal(guard.refuses('p', 999), true)
  assert.equal(guard.isBanned('p', 999), false, 'a hold is not a ban')
  assert.deepEqual(guard.bans(999), [])
  assert.equal(guard.refuses('p', 1_000), false, 'expired')
  guard.hold('q', 0)
  guard.release('q')
  assert.equal(guard.refuses('q', 1), false, 'lifted')
  for (const peer of ['a', 'b', 'c']) guard.hold(peer, 0)
  assert.deepEqual(
    ['a', 'b', 'c'].map((peer) => guard.refuses(peer, 1)),
    [false, true, true],
    'at most maxBans holds, the oldest dropped first',
  )
  const off = new PeerGuard({ hangUpHoldMs: 0 })
  assert.equal(off.hold('p', 0), undefined)
  assert.equal(off.refuses('p', 0), false)
})

test('the stream rate admits a burst, then its refill rate; what exceeds it costs points', () => {
  const guard = new PeerGuard({ streamBurst: 10, streamsPerSecond: 5, banPenalty: 1_000 })
  for (let i = 0; i < 10; i++) assert.equal(guard.admitStream('p', 1, 0), true)
  assert.equal(guard.admitStream('p', 1, 0), false)
  assert.ok(guard.penalty('p', 0) > 0)
  assert.equal(guard.admitStream('p', 1, 200), true, 'one stream refilled after 200 ms at 5/s')
  assert.equal(guard.admitStream('p', 1, 200), false)
  assert.equal(guard.admitStream('other', 1, 0), true, 'buckets are per peer')
})

test('a banned peer is disconnected and refused both ways until the ban expires', async (t) => {
  const net = await createMemoryNetwork(2, { connections: { banMs: 3_000 } })
  t.after(() => net.stop())
  const [a, b] = net.nodes as [(typeof net.nodes)[0], (typeof net.nodes)[0]]
  await net.connect(1, 0)
  a.net.penalize(b.net.peerId, 25, 'test offence')
  assert.deepEqual(
    a.net.bans().map((x) => x.peerId),
    [b.net.peerId],
  )
  await waitFor(async () => ((await a.net.connections()).length === 0 ? true : undefined), {
    timeoutMs: 5_000,
    what: 'the banned peer to be disconnected',
  })
  // The dialler may finish its side of the handshake before the gater's refusal reaches it: what
  // counts is that no connection stays.
  await b.net.connect(a.net.addresses()[0] as string).catch(() => {})
  await waitFor(async () => ((await b.net.connections()).length === 0 ? true : undefined), {
    timeoutMs: 5_000,
    what: 'the banned peer to be refused when it dials in',
  })
  assert.equal((await a.net.connections()).length, 0)
  await assert.rejects(a.net.connect(b.net.addresses()[0] as string), 'nor is it dialled')
  // After the ban: welcome again.
  await waitFor(() => a.net.bans().length === 0, { timeoutMs: 6_000, what: 'the ban to expire' })
  await b.net.connect(a.net.addresses()[0] as string)
  await waitFor(async () => ((await a.net.connections()).length === 1 ? true : undefined), {
    timeoutMs: 5_000,
    what: 'the peer to be connected again',
  })
})

test('a peer that opens streams past its stream rate is reset, banned and disconnected', async (t) => {
  const net = await createMemoryNetwork(1, { connections: { streamBurst: 32, streamsPerSecond: 16 } })
  t.after(() => net.stop())
  const raw = await createRawPeer()
  t.after(() => raw.stop())
  const target = net.nodes[0] as (typeof net.nodes)[0]
  const address = target.net.addresses()[0] as string
  let opened = 0
  let failed = 0
  for (let i = 0; i < 400; i++) {
    try {
      const conn = await raw.node.dial(multiaddr(address))
      const s = await conn.newStream('/junk/1.0.0', { signal: AbortSignal.timeout(2_000) }).catch(() => undefined)
      s?.abort(new Error('done'))
      const b = await conn.newStream(BLOCKS_PROTOCOL, { signal: AbortSignal.timeout(2_000) })
      opened++
      b.abort(new Error('done'))
    } catch {
      failed++
      if (target.net.bans().length > 0) break
    }
  }
  assert.ok(failed > 0, `some streams were refused (opened ${opened})`)
  assert.deepEqual(
    target.net.bans().map((b) => b.peerId),
    [raw.peerId],
  )
  await waitFor(async () => ((await target.net.connections()).length === 0 ? true : undefined), {
    timeoutMs: 5_000,
    what: 'the flooder to be disconnected',
  })
  await assert.rejects(raw.node.dial(multiaddr(address)).then((c) => c.newStream(BLOCKS_PROTOCOL)))
})
