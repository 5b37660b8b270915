/**
 * The network layer's stream writer against a reader that stops reading: a write waits for the
 * reader (not only for the first drain event, which libp2p's own onDrain() remembers forever),
 * and a write that makes no progress within its deadline resets the stream.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'
import { createRawPeer, whenReset } from './helpers/raw-peer.ts'

const PROTOCOL = '/lateral/test-sink/1.0.0'
const KiB = 1024

describe('stream writes and slow readers', { timeout: 30_000 }, () => {
  it('a write waits for the reader within the buffer bound, and a stalled write resets the stream', async (t) => {
    const net = await createMemoryNetwork(1)
    t.after(() => net.stop())
    const node = net.nodes[0] as LateralNode
    const raw = await createRawPeer()
    t.after(() => raw.stop())
    const total = 16 * 1024 * KiB
    const bound = 128 * KiB
    const outcome = { written: 0, maxBuffered: 0, error: undefined as Error | undefined }
    const finished = new Promise<void>((resolve) => {
      void node.net.handle(
        PROTOCOL,
        async (stream) => {
          try {
            for (let at = 0; at < total; at += 64 * KiB) {
              await stream.write(new Uint8Array(64 * KiB))
              outcome.written += 64 * KiB
              outcome.maxBuffered = Math.max(outcome.maxBuffered, stream.bufferedBytes ?? 0)
            }
          } catch (err) {
            outcome.error = err as Error
          } finally {
            resolve()
          }
        },
        { maxBufferedBytes: bound, writeTimeoutMs: 300 },
      )
    })
    // The reader takes 512 KiB (its window reopens, the writer sees drain events), then stops.
    const stream = await raw.stalled(node.net.addresses()[0] as string, PROTOCOL, new Uint8Array([1]), 512 * KiB)
    await finished
    assert.ok(
      outcome.maxBuffered <= bound,
      `a resolved write left ${outcome.maxBuffered} bytes queued (bound ${bound})`,
    )
    assert.ok(outcome.written < total, 'the writer did not get rid of everything while nobody read')
    assert.equal(outcome.error?.name, 'TimeoutError', 'the stalled write gave up')
    assert.equal(await whenReset(stream), 'reset', 'and reset the stream')
  })
})
