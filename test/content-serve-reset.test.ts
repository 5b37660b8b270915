/**
 * Serving blocks to honest peers whose streams end badly: a reset or abort in the middle is
 * normal on a network and costs the requester nothing; a stream left open with nothing asked
 * is closed after the idle timeout, but one still being served is not.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { CID } from 'multiformats/cid'
import { BLOCKS_PROTOCOL, encodeMessage, MAX_FRAME_BYTES } from '../src/content/blocks-message.ts'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import type { ProtocolStream } from '../src/net/types.ts'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'
import { addRandom, CHUNK, serveWith } from './helpers/blocks-server.ts'

const wantBlocks = (cids: CID[]) =>
  encodeFrame(encodeMessage({ t: 'want', wants: cids.map((cid) => ({ cid, kind: 0 as const })) }))

/** Read frames until the stream ends; how it ended ('end' or the error's name) and the frames read. */
async function readToEnd(stream: ProtocolStream, timeoutMs: number): Promise<{ how: string; frames: number }> {
  let frames = 0
  const reading = (async () => {
    try {
      for await (const _ of readFrames(stream, MAX_FRAME_BYTES)) frames++
      return 'end'
    } catch (err) {
      return (err as Error).name
    }
  })()
  const timeout = new Promise<string>((resolve) => setTimeout(() => resolve('still open'), timeoutMs).unref())
  return { how: await Promise.race([reading, timeout]), frames }
}

async function pair(t: { after: (fn: () => Promise<void>) => void }): Promise<[LateralNode, LateralNode]> {
  const net = await createMemoryNetwork(2)
  t.after(() => net.stop())
  await net.connect(1, 0)
  return net.nodes as [LateralNode, LateralNode]
}

describe('serving blocks: resets and idle streams', { timeout: 60_000 }, () => {
  it('a requester that resets or aborts its stream mid-transfer is not penalised', async (t) => {
    const [seeder, requester] = await pair(t)
    const { cids } = await addRandom(seeder, 4 * 1024 * 1024)
    const server = await serveWith(seeder, {})

    for (const end of ['abort', 'reset after reading'] as const) {
      const stream = await requester.net.openStream(seeder.peerId, BLOCKS_PROTOCOL)
      await stream.write(wantBlocks(cids))
      if (end === 'reset after reading') {
        for await (const _ of readFrames(stream, MAX_FRAME_BYTES)) break
      }
      stream.abort(new Error('session over'))
      await waitFor(() => server.stats().streams === 0, { timeoutMs: 5_000, what: `the server to drop the ${end}` })
    }
    assert.equal(seeder.net.penalty(requester.peerId), 0, 'an ordinary reset is not an offence')
  })

  it('a stream with nothing asked is reset after the idle timeout, without penalty', async (t) => {
    const [seeder, requester] = await pair(t)
    const server = await serveWith(seeder, { idleTimeoutMs: 300 })
    const stream = await requester.net.openStream(seeder.peerId, BLOCKS_PROTOCOL)
    const started = Date.now()
    const { how } = await readToEnd(stream, 5_000)
    assert.notEqual(how, 'still open', 'the idle stream was closed')
    assert.ok(Date.now() - started >= 250, 'not before the idle timeout')
    await waitFor(() => server.stats().streams === 0, { timeoutMs: 5_000, what: 'the server to let go' })
    assert.equal(server.stats().idleResets, 1)
    assert.equal(seeder.net.penalty(requester.peerId), 0)
  })

  it('a stream waiting for its turn under the upload limit is not idle', async (t) => {
    const [seeder, requester] = await pair(t)
    const { cids } = await addRandom(seeder, 4 * CHUNK)
    const leaves = cids.slice(0, 3)
    // Each block waits about a second for the rate limit: longer than the idle timeout.
    const server = await serveWith(seeder, { idleTimeoutMs: 300 }, CHUNK)
    const stream = await requester.net.openStream(seeder.peerId, BLOCKS_PROTOCOL)
    await stream.write(wantBlocks(leaves))
    let blocks = 0
    for await (const _ of readFrames(stream, MAX_FRAME_BYTES)) if (++blocks === leaves.length) break
    assert.equal(blocks, leaves.length)
    assert.equal(server.stats().idleResets, 0)
    stream.abort(new Error('done'))
  })
})
