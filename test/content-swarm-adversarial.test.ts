/**
 * The swarm against peers that lie or break the protocol, in one process over the memory
 * transport: corrupt blocks, junk from a provider, malformed requests to a server, bans.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 as mhSha256 } from 'multiformats/hashes/sha2'
import {
  BLOCKS_PROTOCOL,
  decodeMessage,
  encodeBlockFrame,
  encodeMessage,
  MAX_FRAME_BYTES,
} from '../src/content/blocks-message.ts'
import { BlocksServer } from '../src/content/swarm-server.ts'
import { ByteRate, Slots } from '../src/content/throttle.ts'
import { blockMatches } from '../src/content/verify.ts'
import { encodeFrame, FrameReader } from '../src/core/framing.ts'
import { silentLogger } from '../src/core/logger.ts'
import type { Net, ProtocolStream } from '../src/net/types.ts'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'
import { impersonate } from './helpers/lying-provider.ts'

/** The one frame in `bytes`. */
function readFramesSync(bytes: Uint8Array): Uint8Array {
  const [frame] = new FrameReader(MAX_FRAME_BYTES).push(bytes)
  assert.ok(frame !== undefined)
  return frame
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function addRandom(node: LateralNode, size: number): Promise<{ cid: string; bytes: Buffer }> {
  const bytes = randomBytes(size)
  const { cid } = await node.content.add([{ path: 'f.bin', size, content: [bytes] }], { chunker: 'size-262144' })
  return { cid, bytes }
}

async function cat(node: LateralNode, cid: string): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of node.content.cat(cid)) parts.push(chunk)
  return Buffer.concat(parts)
}

/** Every block in the node's store hashes to its CID. */
async function assertStoreClean(node: LateralNode): Promise<void> {
  let n = 0
  for await (const cid of node.content.blockstore.cids()) {
    assert.ok(blockMatches(cid, await node.content.blockstore.getBytes(cid)), `stored block ${cid} matches its CID`)
    n++
  }
  assert.ok(n > 0)
}

describe('swarm against misbehaving peers', { timeout: 120_000 }, () => {
  it('a peer serving corrupt blocks is dropped and penalised; the download completes; no wrong block is stored; repeat offenders are refused', async (t) => {
    // The honest seeder is rate-limited so the liar certainly gets asked for blocks.
    const net = await createMemoryNetwork(3, { content: { uploadLimit: 4 * 1024 * 1024, banAfter: 2 } })
    t.after(() => net.stop())
    const [good, liar, downloader] = net.nodes as [LateralNode, LateralNode, LateralNode]
    await net.connectAll()
    await impersonate(liar, (cid) => encodeMessage({ t: 'block', cid, data: randomBytes(256 * 1024) }))

    for (let round = 1; round <= 2; round++) {
      const { cid, bytes } = await addRandom(good, 4 * 1024 * 1024)
      const result = await downloader.content.get(cid)
      assert.equal(sha256(await cat(downloader, cid)), sha256(bytes))
      const tally = result.peers.find((p) => p.peerId === liar.peerId)
      assert.equal(tally?.state, 'corrupt', `round ${round}: the liar was dropped`)
      assert.equal(tally?.bytes, 0, 'nothing it sent was kept')
      assert.equal(result.peers.find((p) => p.peerId === good.peerId)?.bytes, result.bytes)
    }
    await assertStoreClean(downloader)
    assert.ok(downloader.net.penalty(liar.peerId) > 0, 'the liar was penalised')
    const offence = downloader.content.stats().offences.find((o) => o.peerId === liar.peerId)
    assert.deepEqual(offence, { peerId: liar.peerId, corruptBlocks: 2, refused: true })

    // Refused from now on: not even asked.
    const { cid } = await addRandom(good, 1024 * 1024)
    const third = await downloader.content.get(cid)
    assert.equal(
      third.peers.find((p) => p.peerId === liar.peerId),
      undefined,
    )
  })

  it('a provider answering with junk is dropped and the download completes from the others', async (t) => {
    const net = await createMemoryNetwork(3, { content: { uploadLimit: 4 * 1024 * 1024 } })
    t.after(() => net.stop())
    const [good, liar, downloader] = net.nodes as [LateralNode, LateralNode, LateralNode]
    await net.connectAll()
    await impersonate(liar, () => randomBytes(100))
    const { cid, bytes } = await addRandom(good, 2 * 1024 * 1024)
    const result = await downloader.content.get(cid)
    assert.equal(sha256(await cat(downloader, cid)), sha256(bytes))
    assert.equal(result.peers.find((p) => p.peerId === liar.peerId)?.state, 'dropped')
    assert.ok(downloader.net.penalty(liar.peerId) > 0)
  })

  it('malformed requests (truncated, oversized, wrong types, random bytes) never crash a server', async (t) => {
    const net = await createMemoryNetwork(3)
    t.after(() => net.stop())
    const [server, attacker, honest] = net.nodes as [LateralNode, LateralNode, LateralNode]
    await net.connectAll()
    const { cid, bytes } = await addRandom(server, 1024 * 1024)
    const root = CID.parse(cid)
    const huge = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]) // a length of ~4 GiB
    const attacks: Array<[string, Uint8Array]> = [
      ['truncated frame', encodeFrame(encodeMessage({ t: 'want', wants: [{ cid: root, kind: 0 }] })).subarray(0, 10)],
      ['oversized length', huge],
      ['over-long varint', new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])],
      ['random bytes', randomBytes(4096)],
      ['unknown type', encodeFrame(cbor.encode({ t: 'gimme', c: [root.bytes] }))],
      ['a block sent to a server', encodeFrame(encodeMessage({ t: 'block', cid: root, data: new Uint8Array(3) }))],
      ['want list not a list', encodeFrame(cbor.encode({ t: 'want', w: 'everything' }))],
      ['want kind out of range', encodeFrame(cbor.encode({ t: 'want', w: [[root.bytes, 7]] }))],
      ['not a CID', encodeFrame(cbor.encode({ t: 'cancel', c: [new Uint8Array([1, 2, 3])] }))],
      ['extra fields', encodeFrame(cbor.encode({ t: 'have', c: [root.bytes], x: 1 }))],
      [
        'too many entries',
        encodeFrame(cbor.encode({ t: 'cancel', c: Array.from({ length: 1025 }, () => root.bytes) })),
      ],
    ]
    for (const [what, payload] of attacks) {
      const before = server.net.penalty(attacker.peerId)
      const stream = await attacker.net.openStream(server.peerId, BLOCKS_PROTOCOL)
      await stream.write(payload)
      await stream.close().catch(() => {})
      // The server answers nothing useful and resets the stream.
      await (async () => {
        for await (const _ of stream) {
          // drain
        }
      })().catch((err: Error) => assert.equal(err.name, 'StreamResetError'))
      if (what !== 'truncated frame') {
        assert.ok(server.net.penalty(attacker.peerId) > before, `${what}: the sender was penalised`)
      }
    }
    // Still serving honest peers.
    await honest.content.get(cid)
    assert.equal(sha256(await cat(honest, cid)), sha256(bytes))
  })

  it('the codec checks every field and round-trips every message', () => {
    const cid = CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
    const messages = [
      {
        t: 'want' as const,
        wants: [
          { cid, kind: 0 as const },
          { cid, kind: 1 as const },
        ],
      },
      { t: 'have' as const, cids: [cid] },
      { t: 'dont-have' as const, cids: [cid] },
      { t: 'cancel' as const, cids: [cid] },
      { t: 'block' as const, cid, data: new Uint8Array([1, 2, 3]) },
    ]
    for (const m of messages) assert.deepEqual(decodeMessage(encodeMessage(m)), m)
    // The zero-copy block frame is byte for byte the canonical DAG-CBOR encoding, at every size class.
    for (const n of [0, 23, 24, 255, 256, 65535, 65536, 1 << 20]) {
      const data = new Uint8Array(n).fill(n % 251)
      const frame = Buffer.concat(encodeBlockFrame(cid, data))
      assert.deepEqual(frame, Buffer.from(encodeFrame(cbor.encode({ c: cid.bytes, d: data, t: 'block' }))), `size ${n}`)
      const decoded = decodeMessage(readFramesSync(frame))
      assert.ok(decoded.t === 'block' && decoded.cid.equals(cid) && Buffer.from(decoded.data).equals(Buffer.from(data)))
    }
    for (const bad of [
      cbor.encode([1, 2]),
      cbor.encode({ t: 'have', c: [] }),
      cbor.encode({ t: 'block', c: cid.bytes, d: 'text' }),
      cbor.encode({ t: 'block', c: cid.bytes }),
      new Uint8Array([0xa1]),
    ]) {
      assert.throws(() => decodeMessage(bad), { name: 'InvalidInputError' })
    }
  })

  it('a server never lets a have-answer come between the parts of a block frame (slow stream)', async () => {
    const blocks = await randomBlocks(4)
    const cids = [...blocks.values()].map((b) => b.cid)
    const { send, frames, stop } = serveFake(blocks, { writeDelayMs: 2 })
    send({ t: 'want', wants: cids.map((cid) => ({ cid, kind: 0 as const })) })
    for (let i = 0; i < 40; i++) send({ t: 'want', wants: [{ cid: cids[i % 4] as CID, kind: 1 as const }] })
    await waitUntil(() => frames().filter((f) => f.t === 'block').length >= 4)
    const all = await stop()
    const got = all.filter((f) => f.t === 'block')
    assert.equal(got.length, 4)
    for (const f of got)
      assert.ok(
        f.t === 'block' && Buffer.from(f.data).equals(Buffer.from(blocks.get(f.cid.toString())?.data as Uint8Array)),
      )
    assert.equal(all.filter((f) => f.t === 'have').length, 40)
  })

  it('a server answers dont-have for the blocks it lacks, within a budget past which the stream ends with a penalty', async () => {
    const blocks = await randomBlocks(3)
    const stored = [...blocks.values()].map((b) => b.cid)
    const lacking = await Promise.all(
      [1, 2, 3].map(async (i) => CID.createV1(0x55, await mhSha256.digest(randomBytes(i)))),
    )
    const [a, b, c] = stored as [CID, CID, CID]
    const [x, y, z] = lacking as [CID, CID, CID]
    const fake = serveFake(blocks, { missingWantsBurst: 3 })
    fake.send({
      t: 'want',
      wants: [
        { cid: a, kind: 0 },
        { cid: x, kind: 0 },
        { cid: b, kind: 1 },
        { cid: y, kind: 1 },
        { cid: c, kind: 0 },
      ],
    })
    await waitUntil(() => fake.frames().filter((f) => f.t === 'block').length >= 2)
    const all = await fake.stop()
    assert.deepEqual(
      all
        .filter((f) => f.t === 'block')
        .map((f) => (f.t === 'block' ? f.cid.toString() : ''))
        .sort(),
      [a.toString(), c.toString()].sort(),
    )
    const answered = (t: 'have' | 'dont-have') =>
      all.flatMap((f) => (f.t === t ? f.cids.map((cid) => cid.toString()) : [])).sort()
    assert.deepEqual(answered('have'), [b.toString()])
    assert.deepEqual(answered('dont-have'), [x.toString(), y.toString()].sort())
    assert.equal(fake.penalties(), 0)

    // Past the budget (3 missing per burst), wanting blocks it lacks ends the stream with a penalty.
    const greedy = serveFake(blocks, { missingWantsBurst: 3 })
    greedy.send({ t: 'want', wants: [x, y, z, a].map((cid) => ({ cid, kind: 0 as const })) })
    greedy.send({ t: 'want', wants: [{ cid: CID.createV1(0x55, await mhSha256.digest(randomBytes(9))), kind: 0 }] })
    await waitUntil(() => greedy.penalties() > 0)
    const seen = await greedy.stop()
    assert.equal(seen.flatMap((f) => (f.t === 'dont-have' ? f.cids : [])).length, 3)
  })
})

interface FakeBlock {
  cid: CID
  data: Uint8Array
}

async function randomBlocks(n: number): Promise<Map<string, FakeBlock>> {
  const blocks = new Map<string, FakeBlock>()
  for (let i = 0; i < n; i++) {
    const data = randomBytes(200_000 + i)
    const cid = CID.createV1(0x55, await mhSha256.digest(data))
    blocks.set(cid.toString(), { cid, data })
  }
  return blocks
}

async function waitUntil(done: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
}

/**
 * A BlocksServer serving `blocks` from memory to one in-process requester stream: messages are
 * sent with `send`, what the server wrote is decoded by `frames`, `stop` ends the stream and
 * gives every frame. Counts the penalties given.
 */
function serveFake(blocks: Map<string, FakeBlock>, options: { writeDelayMs?: number; missingWantsBurst?: number }) {
  let penalties = 0
  const server = new BlocksServer(
    {
      net: { penalize: () => void penalties++ } as unknown as Net,
      blocks: {
        has: async (cid) => blocks.has(cid.toString()),
        getBytes: async (cid) => {
          const block = blocks.get(cid.toString())
          if (block === undefined) throw new Error(`no block ${cid}`)
          return block.data
        },
      },
      slots: new Slots(8),
      uploadRate: new ByteRate(0),
      isBanned: () => false,
      log: silentLogger.forComponent('test'),
    },
    options.missingWantsBurst === undefined
      ? {}
      : { missingWantsBurst: options.missingWantsBurst, missingWantsPerSecond: 0.001 },
  )
  // Incoming frames on demand; every write may take a little while, as under back-pressure.
  const incoming: Uint8Array[] = []
  let wake: (() => void) | undefined
  let ended = false
  const written: Uint8Array[] = []
  const stream = {
    protocol: BLOCKS_PROTOCOL,
    remotePeer: 'requester',
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const next = incoming.shift()
        if (next !== undefined) yield next
        else if (ended) return
        else await new Promise<void>((r) => (wake = r))
      }
    },
    async write(bytes: Uint8Array) {
      if (options.writeDelayMs !== undefined) await new Promise((r) => setTimeout(r, options.writeDelayMs))
      written.push(bytes)
    },
    close: async () => {},
    abort: () => {
      ended = true
      wake?.()
    },
  } as unknown as ProtocolStream
  const served = server.serve(stream)
  const reader = new FrameReader(MAX_FRAME_BYTES)
  const decoded: ReturnType<typeof decodeMessage>[] = []
  const frames = () => {
    for (const chunk of written.splice(0)) for (const frame of reader.push(chunk)) decoded.push(decodeMessage(frame))
    return decoded
  }
  return {
    send(m: Parameters<typeof encodeMessage>[0]) {
      incoming.push(encodeFrame(encodeMessage(m)))
      wake?.()
    },
    frames,
    penalties: () => penalties,
    async stop() {
      ended = true
      wake?.()
      await served
      return frames()
    },
  }
}
