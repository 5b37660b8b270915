/**
 * A requester that asks for blocks and stops reading must cost only itself: the seeder's
 * buffered bytes stay bounded, the stalled stream is reset after the write deadline, and
 * honest peers keep downloading while stalled streams are open. In one process over the
 * memory transport, with a plain js-libp2p peer as the stalled reader.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'
import { addRandom, CHUNK, serveWith } from './helpers/blocks-server.ts'
import { createRawPeer, type RawPeer, whenReset } from './helpers/raw-peer.ts'

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function rawPeers(n: number, t: { after: (fn: () => Promise<void>) => void }): Promise<RawPeer[]> {
  const peers = await Promise.all(Array.from({ length: n }, () => createRawPeer()))
  t.after(() => Promise.all(peers.map((p) => p.stop())).then(() => {}))
  return peers
}

describe('serving a requester that stops reading', { timeout: 60_000 }, () => {
  it('keeps the bytes buffered for it under the bound and resets its stream after the write deadline', async (t) => {
    const net = await createMemoryNetwork(1)
    t.after(() => net.stop())
    const seeder = net.nodes[0] as LateralNode
    const [raw] = (await rawPeers(1, t)) as [RawPeer]
    const { cids } = await addRandom(seeder, 16 * 1024 * 1024)
    const peerBlocksInFlight = 2
    const server = await serveWith(seeder, { writeTimeoutMs: 500, peerBlocksInFlight })

    // It reads the first 512 KiB (so the seeder sees its window reopen once), then stops.
    const stream = await raw.stalledStream(seeder.net.addresses()[0] as string, cids, 512 * 1024)
    let maxBuffered = 0
    let maxHeld = 0
    const sampler = setInterval(() => {
      const s = server.stats()
      maxBuffered = Math.max(maxBuffered, s.bufferedBytes)
      maxHeld = Math.max(maxHeld, s.heldBytes)
    }, 5)
    const status = await Promise.race([
      whenReset(stream),
      new Promise<string>((resolve) => setTimeout(() => resolve('still open after 10 s'), 10_000).unref()),
    ])
    clearInterval(sampler)

    // At most the blocks in flight for this peer, plus a frame header each and the stream's own slack.
    const bound = peerBlocksInFlight * (CHUNK + 1024) + 64 * 1024
    assert.ok(maxBuffered <= bound, `write buffers held ${maxBuffered} bytes (bound ${bound})`)
    assert.ok(maxHeld <= bound, `blocks held for the requester: ${maxHeld} bytes (bound ${bound})`)
    assert.equal(status, 'reset', 'the stalled stream was reset by the seeder')
    const after = await waitFor(() => (server.stats().streams === 0 ? server.stats() : undefined), {
      timeoutMs: 5_000,
      what: 'the server to let go of the stream',
    })
    assert.equal(after.bufferedBytes, 0)
    assert.equal(after.heldBytes, 0)
    assert.equal(after.stalledResets, 1)
    assert.equal(seeder.net.penalty(raw.peerId), 0, 'stalling is not a protocol violation')
  })

  it('an honest peer downloads the whole file while 10 stalled streams from five peers are open', async (t) => {
    const net = await createMemoryNetwork(2)
    t.after(() => net.stop())
    const [seeder, honest] = net.nodes as [LateralNode, LateralNode]
    await net.connect(1, 0)
    const peers = await rawPeers(5, t)
    const { cid, bytes, cids } = await addRandom(seeder, 8 * 1024 * 1024)
    // A deadline far beyond the test: the honest download must not depend on it.
    const server = await serveWith(seeder, { writeTimeoutMs: 120_000 })
    const address = seeder.net.addresses()[0] as string
    // More stalled streams than upload slots, and more than the per-peer slot caps add up to
    // (5 x 2 = 10 > 8): only slots that are not held while a write waits leave room. No peer reads.
    const stalled = await Promise.all(
      peers.flatMap((p) => [p.stalledStream(address, cids), p.stalledStream(address, cids)]),
    )
    await waitFor(() => server.stats().streams === 10, { timeoutMs: 5_000, what: 'ten stalled streams served' })

    await honest.content.get(cid, { signal: AbortSignal.timeout(20_000) })
    const parts: Uint8Array[] = []
    for await (const chunk of honest.content.cat(cid)) parts.push(chunk)
    assert.equal(sha256(Buffer.concat(parts)), sha256(bytes))
    assert.ok(
      stalled.every((s) => s.status === 'open'),
      'the stalled streams were still open: the deadline did not free the way',
    )
    assert.ok(server.stats().heldBytes <= 5 * 4 * (CHUNK + 1024), 'each stalled peer holds at most its own budget')
  })
})
