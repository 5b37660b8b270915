/**
 * Blocks hashed on worker threads (src/content/hash-threads.ts): the verdict is the same as
 * hashing inline, for blocks in one or many parts, SHA-256 and SHA-512, many at once (the ring
 * wraps and fills), blocks larger than the ring, and after the workers are gone; and a download
 * that hashes on a worker still drops a peer sending corrupt blocks and keeps nothing it sent.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { BLOCKS_PROTOCOL, decodeMessage, encodeMessage, MAX_FRAME_BYTES } from '../src/content/blocks-message.ts'
import { HashThreads } from '../src/content/hash-threads.ts'
import { blockMatches } from '../src/content/verify.ts'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'

function cidOf(bytes: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): CID {
  const code = algorithm === 'sha256' ? 0x12 : 0x13
  return CID.createV1(raw.code, Digest.create(code, createHash(algorithm).update(bytes).digest()))
}

/** `bytes` cut into `n` views of one larger buffer, as a stream delivers them. */
function split(bytes: Uint8Array, n: number): Uint8Array[] {
  const backing = new Uint8Array(bytes.length + 64)
  backing.set(bytes, 32)
  const view = backing.subarray(32, 32 + bytes.length)
  const parts: Uint8Array[] = []
  const step = Math.ceil(bytes.length / n)
  for (let at = 0; at < bytes.length; at += step) parts.push(view.subarray(at, Math.min(at + step, bytes.length)))
  return parts
}

describe('hash threads', () => {
  const pools: HashThreads[] = []
  const pool = (threads: number, ringBytes?: number) => {
    const p = new HashThreads({ threads, ...(ringBytes === undefined ? {} : { ringBytes }) })
    pools.push(p)
    return p
  }
  after(async () => {
    await Promise.all(pools.map((p) => p.close()))
  })

  it('gives the inline verdict for good and corrupt blocks, SHA-256 and SHA-512, in parts', async () => {
    const hasher = pool(1)
    for (const algorithm of ['sha256', 'sha512'] as const) {
      const bytes = randomBytes(300_000)
      const cid = cidOf(bytes, algorithm)
      assert.equal(hasher.takes(cid), true)
      assert.equal(await hasher.verify(cid, split(bytes, 7), bytes.length), true)
      const corrupt = Uint8Array.from(bytes)
      corrupt[123_456] = (corrupt[123_456] as number) ^ 1
      assert.equal(await hasher.verify(cid, split(corrupt, 3), corrupt.length), false)
      // Same length, other bytes; and a block cut short.
      assert.equal(await hasher.verify(cid, [randomBytes(bytes.length)], bytes.length), false)
      assert.equal(await hasher.verify(cid, [bytes.subarray(0, 1000)], 1000), false)
    }
  })

  it('keeps every verdict right with many blocks at once: the ring wraps and fills', async () => {
    // A ring of 1 MiB for blocks of 100-300 KiB: at most a few fit, the rest wait their turn.
    const hasher = pool(2, 1024 * 1024)
    const blocks = Array.from({ length: 60 }, (_, i) => {
      const bytes = randomBytes(100_000 + ((i * 37_919) % 200_000))
      const good = i % 5 !== 0
      const cid = good ? cidOf(bytes) : cidOf(randomBytes(bytes.length))
      return { bytes, cid, good }
    })
    const verdicts = await Promise.all(blocks.map((b) => hasher.verify(b.cid, split(b.bytes, 4), b.bytes.length)))
    assert.deepEqual(
      verdicts,
      blocks.map((b) => b.good),
    )
  })

  it('hashes a block larger than the ring on the calling thread', async () => {
    const hasher = pool(1, 64 * 1024)
    const bytes = randomBytes(200_000)
    assert.equal(await hasher.verify(cidOf(bytes), split(bytes, 2), bytes.length), true)
    assert.equal(await hasher.verify(cidOf(randomBytes(10)), split(bytes, 2), bytes.length), false)
  })

  it('with no threads, or once closed, hashes inline and still verifies', async () => {
    const none = pool(0)
    const bytes = randomBytes(50_000)
    const cid = cidOf(bytes)
    assert.equal(none.takes(cid), false)
    assert.equal(await none.verify(cid, [bytes], bytes.length), true)
    const closed = pool(1)
    assert.equal(await closed.verify(cid, [bytes], bytes.length), true)
    // Blocks in flight when the pool closes get their verdict all the same.
    const inFlight = Array.from({ length: 20 }, () => closed.verify(cid, split(bytes, 3), bytes.length))
    await closed.close()
    assert.deepEqual(await Promise.all(inFlight), Array(20).fill(true))
    assert.equal(await closed.verify(cidOf(randomBytes(5)), [bytes], bytes.length), false)
  })

  it('does not take identity CIDs (their digest is the data)', () => {
    const identity = CID.createV1(raw.code, Digest.create(0x00, Uint8Array.of(1, 2, 3)))
    assert.equal(pool(1).takes(identity), false)
  })
})

describe('a download hashing on a worker thread', { timeout: 120_000 }, () => {
  it('drops a peer serving corrupt blocks, keeps nothing it sent and completes from the honest one', async (t) => {
    // The honest seeder is rate-limited so the liar certainly gets asked for blocks.
    const net = await createMemoryNetwork(3, { content: { uploadLimit: 4 * 1024 * 1024, hashThreads: 1 } })
    t.after(() => net.stop())
    const [good, liar, downloader] = net.nodes as [LateralNode, LateralNode, LateralNode]
    await net.connectAll()
    // The liar says it has everything and answers every want with random bytes.
    await liar.net.unhandle(BLOCKS_PROTOCOL)
    await liar.net.handle(BLOCKS_PROTOCOL, async (stream) => {
      try {
        for await (const frame of readFrames(stream, MAX_FRAME_BYTES)) {
          const m = decodeMessage(frame)
          if (m.t !== 'want') continue
          const haves = m.wants.filter((w) => w.kind === 1).map((w) => w.cid)
          if (haves.length > 0) await stream.write(encodeFrame(encodeMessage({ t: 'have', cids: haves })))
          for (const w of m.wants.filter((x) => x.kind === 0)) {
            await stream.write(encodeFrame(encodeMessage({ t: 'block', cid: w.cid, data: randomBytes(256 * 1024) })))
          }
        }
      } catch {
        // The downloader hung up on us: expected.
      }
    })
    const bytes = randomBytes(4 * 1024 * 1024)
    const { cid } = await good.content.add([{ path: 'f.bin', size: bytes.length, content: [bytes] }], {
      chunker: 'size-262144',
    })
    const result = await downloader.content.get(cid)
    const parts: Uint8Array[] = []
    for await (const chunk of downloader.content.cat(cid)) parts.push(chunk)
    assert.equal(Buffer.compare(Buffer.concat(parts), bytes), 0)
    const tally = result.peers.find((p) => p.peerId === liar.peerId)
    assert.equal(tally?.state, 'corrupt', 'the liar was dropped')
    assert.equal(tally?.bytes, 0, 'nothing it sent was kept')
    assert.equal(result.peers.find((p) => p.peerId === good.peerId)?.bytes, result.bytes)
    assert.ok(downloader.net.penalty(liar.peerId) > 0, 'the liar was penalised')
    let stored = 0
    for await (const c of downloader.content.blockstore.cids()) {
      assert.ok(blockMatches(c, await downloader.content.blockstore.getBytes(c)), `stored block ${c} matches its CID`)
      stored++
    }
    assert.ok(stored > 16)
  })
})
