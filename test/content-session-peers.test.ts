/**
 * A download session against peers that send what it did not ask for or hang up (issue 10,
 * defects 4 and 7): have / dont-have floods for unknown CIDs leave its structures bounded, and
 * a peer that resets or closes its stream (even inside a frame) is dropped without penalty.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { create as digest } from 'multiformats/hashes/digest'
import {
  BLOCKS_PROTOCOL,
  type BlocksMessage,
  decodeMessage,
  encodeMessage,
  MAX_ENTRIES,
  MAX_FRAME_BYTES,
  WANT_BLOCK,
  WANT_HAVE,
} from '../src/content/blocks-message.ts'
import type { PeerTally } from '../src/content/fetch-progress.ts'
import type { SessionOptions } from '../src/content/session-types.ts'
import { type SessionSizes, SwarmSession } from '../src/content/swarm-session.ts'
import { ByteRate } from '../src/content/throttle.ts'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import { silentLogger } from '../src/core/logger.ts'
import type { Net, ProtocolStream } from '../src/net/types.ts'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'

const CHUNK = 256 * 1024
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of it) parts.push(chunk)
  return Buffer.concat(parts)
}

function randomCids(n: number): CID[] {
  return Array.from({ length: n }, () => CID.createV1(0x55, digest(0x12, randomBytes(32))))
}

const frame = (m: BlocksMessage) => encodeFrame(encodeMessage(m))

/**
 * Serve `/lateral/blocks` on `node` by hand: `onWant` answers each want message (the node's own
 * blocks are at hand through `node.content.blockstore`).
 */
async function serveByHand(
  node: LateralNode,
  onWant: (stream: ProtocolStream, m: Extract<BlocksMessage, { t: 'want' }>, first: boolean) => Promise<void>,
): Promise<void> {
  await node.net.unhandle(BLOCKS_PROTOCOL)
  await node.net.handle(BLOCKS_PROTOCOL, async (stream) => {
    let first = true
    try {
      for await (const f of readFrames(stream, MAX_FRAME_BYTES)) {
        const m = decodeMessage(f)
        if (m.t !== 'want') continue
        await onWant(stream, m, first)
        first = false
      }
    } catch {
      // The downloader hung up: expected.
    }
  })
}

/** Answer haves and blocks honestly from the node's store. */
async function answerHonestly(node: LateralNode, stream: ProtocolStream, m: Extract<BlocksMessage, { t: 'want' }>) {
  const blocks = node.content.blockstore
  const haves = []
  for (const w of m.wants) if (w.kind === WANT_HAVE && (await blocks.has(w.cid))) haves.push(w.cid)
  if (haves.length > 0) await stream.write(frame({ t: 'have', cids: haves }))
  for (const w of m.wants) {
    if (w.kind !== WANT_BLOCK) continue
    await stream.write(frame({ t: 'block', cid: w.cid, data: await blocks.getBytes(w.cid) }))
  }
}

/** A download session on `node` with the test's tuning; `net` replaces the node's network. */
function newSession(
  node: LateralNode,
  root: CID,
  options: SessionOptions = {},
  over: { net?: Net; providerTimeoutMs?: number } = {},
): SwarmSession {
  return new SwarmSession(
    root,
    {
      net: over.net ?? node.net,
      blockstore: node.content.blockstore,
      downloadRate: new ByteRate(0),
      tuning: {
        providerTimeoutMs: over.providerTimeoutMs ?? 20_000,
        blockTimeoutMs: 10_000,
        maxPeers: 8,
        providerSearchIntervalMs: 10_000,
      },
      isBanned: () => false,
      reportCorrupt: () => {},
      log: silentLogger.forComponent('test'),
    },
    options,
  )
}

describe('download session against unruly peers', { timeout: 60_000 }, () => {
  it('haves and dont-haves for CIDs never asked about are ignored: per-peer structures stay bounded', async (t) => {
    const net = await createMemoryNetwork(2)
    t.after(() => net.stop())
    const [flooder, downloader] = net.nodes as [LateralNode, LateralNode]
    const bytes = randomBytes(4 * CHUNK)
    const { cid } = await flooder.content.add([{ path: 'f.bin', size: bytes.length, content: [bytes] }], {
      chunker: `size-${CHUNK}`,
    })
    const floodFrames = 20
    await serveByHand(flooder, async (stream, m, first) => {
      if (first) {
        // Before any honest answer: 20 x 1024 haves and as many dont-haves for random CIDs.
        for (let i = 0; i < floodFrames; i++) {
          await stream.write(frame({ t: 'have', cids: randomCids(MAX_ENTRIES) }))
          await stream.write(frame({ t: 'dont-have', cids: randomCids(MAX_ENTRIES) }))
        }
      }
      await answerHonestly(flooder, stream, m)
    })
    await net.connect(1, 0)

    const root = CID.parse(cid)
    const samples: SessionSizes[] = []
    const session: SwarmSession = newSession(downloader, root, {
      onProgress: () => samples.push(session.sizes()),
    })
    const result = await session.run()
    assert.equal(sha256(await collect(downloader.content.cat(cid))), sha256(bytes))
    assert.equal(result.peers.find((p: PeerTally) => p.peerId === flooder.peerId)?.state, 'active')
    assert.ok(samples.length > 0)
    // One root and four leaves: at most one have and one dont-have record per wanted block per peer.
    const most = (k: keyof SessionSizes) => Math.max(...samples.map((s) => s[k]))
    assert.ok(most('haves') <= result.blocks, `have records: ${most('haves')} (flooded ${floodFrames * MAX_ENTRIES})`)
    assert.ok(most('lacks') <= result.blocks, `dont-have records: ${most('lacks')}`)
    assert.ok(most('peers') <= 1 && most('holders') <= 1)
    assert.ok(most('requests') <= 32, 'requests stay within the window')
    assert.deepEqual(
      { haves: session.sizes().haves, lacks: session.sizes().lacks, pending: session.sizes().pending },
      { haves: 0, lacks: 0, pending: 0 },
    )
  })

  it('a peer whose stream fails on a write, still connected, joins again on a new stream', async (t) => {
    const net = await createMemoryNetwork(2)
    t.after(() => net.stop())
    const [seeder, downloader] = net.nodes as [LateralNode, LateralNode]
    const bytes = randomBytes(4 * CHUNK)
    const { cid } = await seeder.content.add([{ path: 'f.bin', size: bytes.length, content: [bytes] }], {
      chunker: `size-${CHUNK}`,
    })
    await net.connect(1, 0)
    // The first stream's second write (the first block wants) fails as a write on a stream whose
    // relay just went does, before its reader has noticed anything.
    const opened: ProtocolStream[] = []
    const failingNet = new Proxy(downloader.net, {
      get(target, key) {
        if (key !== 'openStream') {
          const value = Reflect.get(target, key, target)
          return typeof value === 'function' ? value.bind(target) : value
        }
        return async (...args: Parameters<Net['openStream']>) => {
          const stream = await target.openStream(...args)
          opened.push(stream)
          if (opened.length > 1) return stream
          let writes = 0
          return new Proxy(stream, {
            get(s, k) {
              if (k !== 'write') {
                const value = Reflect.get(s, k, s)
                return typeof value === 'function' ? value.bind(s) : value
              }
              return async (...w: Parameters<ProtocolStream['write']>) => {
                if (++writes === 2) throw new Error('Cannot write to a stream that is closed')
                return s.write(...w)
              }
            },
          })
        }
      },
    })
    const session = newSession(downloader, CID.parse(cid), {}, { net: failingNet, providerTimeoutMs: 5_000 })
    const result = await session.run()
    assert.equal(sha256(await collect(downloader.content.cat(cid))), sha256(bytes))
    assert.equal(opened.length, 2, 'one new stream to the same peer')
    assert.equal(result.peers.find((p: PeerTally) => p.peerId === seeder.peerId)?.bytes, result.bytes)
    assert.equal(downloader.net.penalty(seeder.peerId), 0, 'a failed write is not a protocol violation')
  })

  it('a peer that resets its stream or closes it inside a frame is dropped without penalty', async (t) => {
    const net = await createMemoryNetwork(4)
    t.after(() => net.stop())
    const [seeder, quitter, crasher, downloader] = net.nodes as [LateralNode, LateralNode, LateralNode, LateralNode]
    const bytes = randomBytes(4 * CHUNK)
    let cid = ''
    for (const node of [seeder, quitter, crasher]) {
      cid = (
        await node.content.add([{ path: 'f.bin', size: bytes.length, content: [bytes] }], { chunker: `size-${CHUNK}` })
      ).cid
    }
    // Says it has everything; asked for a block, sends half of its frame and closes the stream.
    await serveByHand(quitter, async (stream, m) => {
      const haves = m.wants.filter((w) => w.kind === WANT_HAVE).map((w) => w.cid)
      if (haves.length > 0) await stream.write(frame({ t: 'have', cids: haves }))
      const want = m.wants.find((w) => w.kind === WANT_BLOCK)
      if (want === undefined) return
      const whole = frame({ t: 'block', cid: want.cid, data: await quitter.content.blockstore.getBytes(want.cid) })
      await stream.write(whole.subarray(0, Math.floor(whole.length / 2)))
      await stream.close()
    })
    // Says it has everything; asked for a block, resets the stream (as a crashing peer's would be).
    await serveByHand(crasher, async (stream, m) => {
      const haves = m.wants.filter((w) => w.kind === WANT_HAVE).map((w) => w.cid)
      if (haves.length > 0) await stream.write(frame({ t: 'have', cids: haves }))
      if (m.wants.some((w) => w.kind === WANT_BLOCK)) stream.abort(new Error('crashed'))
    })
    // Only the two unruly peers at first: the session must go through both of them.
    await net.connect(3, 1)
    await net.connect(3, 2)
    const left = new Set<string>()
    const get = downloader.content.get(cid, {
      onProgress: (p) => {
        for (const peer of p.peers) if (peer.state !== 'active') left.add(peer.peerId)
      },
    })
    await waitFor(() => left.has(quitter.peerId) && left.has(crasher.peerId), { what: 'both unruly peers dropped' })
    await net.connect(3, 0)
    const result = await get
    assert.equal(sha256(await collect(downloader.content.cat(cid))), sha256(bytes))
    assert.equal(result.peers.find((p) => p.peerId === seeder.peerId)?.bytes, result.bytes)
    for (const peer of [quitter, crasher]) {
      assert.equal(result.peers.find((p) => p.peerId === peer.peerId)?.state, 'dropped')
      assert.equal(downloader.net.penalty(peer.peerId), 0, 'hanging up is not a protocol violation')
    }
  })
})
