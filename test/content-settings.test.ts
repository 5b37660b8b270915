/**
 * The download-side settings of config.json's `content` section are really used: the request
 * window bounds what one peer is asked at once, the window keys are checked against each other
 * (ConfigError naming them), and the scheduler and peer limits follow their settings.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { create as digest } from 'multiformats/hashes/digest'
import {
  BLOCKS_PROTOCOL,
  type BlocksMessage,
  decodeMessage,
  encodeMessage,
  MAX_FRAME_BYTES,
  WANT_BLOCK,
  WANT_HAVE,
} from '../src/content/blocks-message.ts'
import { pickBlocks, type SchedulerContext } from '../src/content/scheduler.ts'
import { sessionLimits } from '../src/content/session-limits.ts'
import { SessionPeer } from '../src/content/session-peer.ts'
import { WantList } from '../src/content/want-list.ts'
import { ConfigError } from '../src/core/errors.ts'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import type { ProtocolStream } from '../src/net/types.ts'
import type { ConfigOverrides } from '../src/node/config.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'

const CHUNK = 16 * 1024
const LEAVES = 16
const frame = (m: BlocksMessage) => encodeFrame(encodeMessage(m))

/**
 * Download a 16-block file from a seeder that serves by hand and counts, per stream, the blocks
 * asked of it and not yet sent (or cancelled). Returns the most it saw at once.
 */
async function mostAskedAtOnce(content: ConfigOverrides['content'], t: { after(fn: () => unknown): void }) {
  const net = await createMemoryNetwork(2, content === undefined ? {} : { content })
  t.after(() => net.stop())
  const [seeder, downloader] = net.nodes as [LateralNode, LateralNode]
  const bytes = randomBytes(LEAVES * CHUNK)
  const { cid } = await seeder.content.add([{ path: 'f.bin', size: bytes.length, content: [bytes] }], {
    chunker: `size-${CHUNK}`,
  })
  let most = 0
  await seeder.net.unhandle(BLOCKS_PROTOCOL)
  await seeder.net.handle(BLOCKS_PROTOCOL, async (stream) => {
    const asked = new Set<string>()
    const blocks = seeder.content.blockstore
    try {
      for await (const f of readFrames(stream, MAX_FRAME_BYTES)) {
        const m = decodeMessage(f)
        if (m.t === 'cancel') for (const c of m.cids) asked.delete(c.toString())
        if (m.t !== 'want') continue
        const wanted = m.wants.filter((w) => w.kind === WANT_BLOCK).map((w) => w.cid)
        for (const c of wanted) asked.add(c.toString())
        most = Math.max(most, asked.size)
        const haves = m.wants.filter((w) => w.kind === WANT_HAVE).map((w) => w.cid)
        if (haves.length > 0) await stream.write(frame({ t: 'have', cids: haves }))
        for (const c of wanted) {
          if (!asked.delete(c.toString())) continue
          await stream.write(frame({ t: 'block', cid: c, data: await blocks.getBytes(c) }))
        }
      }
    } catch {
      // The downloader closed its stream at the end.
    }
  })
  await net.connect(1, 0)
  const result = await downloader.content.get(cid, { pin: false })
  assert.equal(result.blocks, LEAVES + 1, 'the whole file arrived')
  return most
}

function randomCid(): CID {
  return CID.createV1(0x55, digest(0x12, randomBytes(32)))
}

const fakeStream = {} as ProtocolStream

describe('content settings', { timeout: 60_000 }, () => {
  it('content.windowMax bounds the blocks asked of one peer at once', async (t) => {
    // Control: with the defaults (window 8..32) the seeder is asked for 8 or more at once...
    const byDefault = await mostAskedAtOnce(undefined, t)
    assert.ok(byDefault >= 8, `default window: ${byDefault} asked at once`)
    // ...with windowMax 2 never more than 2.
    const capped = await mostAskedAtOnce({ windowMin: 1, windowInitial: 2, windowMax: 2 }, t)
    assert.ok(capped <= 2, `windowMax 2: ${capped} asked at once`)
    assert.ok(capped >= 1)
  })

  it('windowMin > windowMax (or windowInitial outside them) is refused with a ConfigError naming the keys', async () => {
    const bad: Array<NonNullable<ConfigOverrides['content']>> = [
      { windowMin: 16, windowMax: 8 },
      { windowInitial: 40 },
      { windowMin: 4, windowInitial: 2 },
    ]
    for (const content of bad) {
      // A node wrongly created is stopped, so the failure is reported rather than left running.
      const created = createNode({
        key: generateDeviceKey(),
        transport: 'memory',
        config: {
          listen: [`/memory/settings-${randomBytes(4).toString('hex')}`],
          mdns: false,
          bootstrap: [],
          metrics: false,
          content,
        },
      })
      await assert.rejects(
        created.then(async (node) => {
          await node.stop()
          return node
        }),
        (err: Error) =>
          err instanceof ConfigError &&
          /content\.windowMin/.test(err.message) &&
          /content\.windowInitial/.test(err.message) &&
          /content\.windowMax/.test(err.message),
        JSON.stringify(content),
      )
    }
    // Each key alone is checked by the schema, and the library path refuses what the schema would.
    assert.throws(() => sessionLimits({ storeQueue: 0 }), /content\.storeQueue/)
    assert.throws(() => sessionLimits({ windowMax: 5000 }), /content\.windowMax/)
    assert.deepEqual(sessionLimits({ windowMin: 2, windowInitial: 2, windowMax: 2 }).windowMax, 2)
  })

  it('rarestFirstScan, endGameDuplicates and timeoutsBeforeDrop are the limits the session uses', () => {
    const limits = (over: Parameters<typeof sessionLimits>[0]) => sessionLimits(over)
    const peer = new SessionPeer('c', fakeStream, performance.now(), limits({}))
    const wants = new WantList()
    for (let i = 0; i < 10; i++) wants.add(randomCid())
    const ctx = (l: ReturnType<typeof sessionLimits>, w = wants): SchedulerContext => ({
      wants: w,
      limits: l,
      peer: () => undefined,
      avgBlock: CHUNK,
      fallbackMs: 1,
    })
    // Rarest first looks only at the first rarestFirstScan wanted blocks.
    assert.equal(pickBlocks(peer, 10, ctx(limits({}))).length, 10)
    assert.equal(pickBlocks(peer, 10, ctx(limits({ rarestFirstScan: 3 }))).length, 3)

    // End-game: one late block already asked of two peers; a third copy only if endGameDuplicates > 2.
    const late = new WantList()
    const cid = randomCid()
    late.add(cid)
    const longAgo = performance.now() - 60_000
    late.assign(cid, 'a', longAgo)
    late.assign(cid, 'b', longAgo)
    assert.equal(pickBlocks(peer, 4, ctx(limits({}), late)).length, 1, 'default: up to 3 copies')
    assert.equal(pickBlocks(peer, 4, ctx(limits({ endGameDuplicates: 2 }), late)).length, 0)

    // A peer leaves after timeoutsBeforeDrop timeouts in a row; its window starts at windowInitial.
    const patient = new SessionPeer('p', fakeStream, performance.now(), limits({ timeoutsBeforeDrop: 5 }))
    assert.equal(patient.window, 8)
    const strikes = [1, 2, 3, 4, 5].map(() => patient.strike())
    assert.deepEqual(strikes, [false, false, false, false, true])
    const quick = new SessionPeer(
      'q',
      fakeStream,
      performance.now(),
      limits({ windowMin: 1, windowInitial: 3, windowMax: 4 }),
    )
    assert.equal(quick.window, 3)
  })
})
