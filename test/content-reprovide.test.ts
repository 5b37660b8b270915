/**
 * Reprovide runs a bounded number of DHT announcements at once (issue 10, defect 8): a node with
 * many pins does not start one provide query per pin all together.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryDatastore } from 'datastore-core'
import { Content } from '../src/content/content.ts'
import type { Net } from '../src/net/types.ts'
import { MemoryBlocks } from '../src/store/blockstore.ts'
import { waitFor } from '../src/testing/wait.ts'

/** A network whose provide() takes a few milliseconds and counts how many run at once. */
function countingNet(): { net: Net; stats: { calls: number; running: number; most: number } } {
  const stats = { calls: 0, running: 0, most: 0 }
  const net = {
    peerId: 'fake-peer',
    async provide(_cid: string, options?: { signal?: AbortSignal }) {
      stats.calls++
      stats.running++
      stats.most = Math.max(stats.most, stats.running)
      try {
        await new Promise((resolve) => setTimeout(resolve, 5))
        options?.signal?.throwIfAborted()
      } finally {
        stats.running--
      }
    },
  } as unknown as Net
  return { net, stats }
}

describe('reprovide', () => {
  it('announces every pin with at most reprovideConcurrency provide queries at once', async () => {
    const { net, stats } = countingNet()
    // Not started: no server, no timer; only add and reprovide run.
    const content = new Content(
      { blockstore: new MemoryBlocks(), datastore: new MemoryDatastore(), net },
      { reprovideIntervalMs: 0, reprovideConcurrency: 3 },
    )
    const pins = 40
    for (let i = 0; i < pins; i++)
      await content.add([{ path: `f${i}`, size: 4, content: [new Uint8Array([i, i, i, i])] }])
    await waitFor(() => stats.running === 0 && stats.calls >= pins, { what: 'announcements of the adds' })
    stats.calls = 0
    stats.most = 0
    assert.equal(await content.reprovide(), pins)
    assert.equal(stats.calls, pins, 'every pin was announced')
    assert.equal(stats.most, 3, `at most 3 at once (saw ${stats.most})`)
    assert.equal(stats.running, 0, 'reprovide resolves once they are all done')
  })
})
