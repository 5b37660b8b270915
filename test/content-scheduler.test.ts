/** Which blocks a download asks of which peer (src/content/scheduler.ts), end-game included. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { pickBlocks, type SchedulerContext } from '../src/content/scheduler.ts'
import { sessionLimits } from '../src/content/session-limits.ts'
import { SessionPeer } from '../src/content/session-peer.ts'
import { WantList } from '../src/content/want-list.ts'
import type { ProtocolStream } from '../src/net/types.ts'

const MiB = 1024 * 1024
const limits = sessionLimits({})

async function cids(n: number): Promise<CID[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => CID.createV1(raw.code, await sha256.digest(Uint8Array.of(i, n)))),
  )
}

/** A peer measured at `rate` bytes/s; its stream is never used by the scheduler. */
function peer(id: string, rate: number): SessionPeer {
  const p = new SessionPeer(id, {} as ProtocolStream, performance.now(), limits)
  p.rateBps = rate
  return p
}

function context(wants: WantList, peers: SessionPeer[]): SchedulerContext {
  return {
    wants,
    limits,
    peer: (id) => peers.find((p) => p.id === id),
    avgBlock: MiB,
    fallbackMs: 1_000,
  }
}

/** Ask `holder` for `blocks` in order, now. */
function ask(wants: WantList, holder: SessionPeer, blocks: CID[]): void {
  const now = performance.now()
  for (const cid of blocks) {
    wants.add(cid)
    wants.assign(cid, holder.id, now)
    holder.requests.set(cid.toString(), now)
  }
}

describe('scheduler', () => {
  test('rarest first among pending blocks: known holders, then fewer holders, then DAG order', async () => {
    const [a, b, c] = await cids(3)
    const wants = new WantList()
    for (const cid of [a, b, c] as CID[]) wants.add(cid)
    const p = peer('p', 0)
    // a: held by p and two others; b: held by p only; c: nobody said.
    for (const id of ['p', 'q', 'r']) wants.noteHave(String(a), id)
    wants.noteHave(String(b), 'p')
    assert.deepEqual(pickBlocks(p, 3, context(wants, [p])).map(String), [String(b), String(a), String(c)])
    // A peer that said it lacks a block is not asked for it.
    wants.noteLack(String(c), 'p')
    assert.deepEqual(pickBlocks(p, 3, context(wants, [p])).map(String), [String(b), String(a)])
  })

  test('end-game: an idle peer copies the tail of a longer queue it would deliver sooner, latest first', async () => {
    const blocks = await cids(6)
    const wants = new WantList()
    const busy = peer('busy', 26 * MiB)
    const idle = peer('idle', 26 * MiB)
    ask(wants, busy, blocks)
    // Blocks take ~38 ms each at 26 MiB/s: the idle peer delivers its first copy in ~38 ms and
    // its second in ~77 against 231 and 192 for the busy peer's last two; the fourth-last
    // (154 ms away) is not worth a third copy at 115 ms.
    const copies = pickBlocks(idle, 8, context(wants, [busy, idle]))
    assert.deepEqual(copies.map(String), [String(blocks[5]), String(blocks[4])])
  })

  test('end-game: no copies for a peer as loaded or slower than the holder', async () => {
    const blocks = await cids(6)
    const wants = new WantList()
    const busy = peer('busy', 26 * MiB)
    const slow = peer('slow', 2 * MiB)
    const loaded = peer('loaded', 26 * MiB)
    ask(wants, busy, blocks)
    const others = await cids(7)
    for (const cid of others) loaded.requests.set(cid.toString(), performance.now())
    assert.deepEqual(pickBlocks(slow, 8, context(wants, [busy, slow, loaded])), [])
    assert.deepEqual(pickBlocks(loaded, 8, context(wants, [busy, slow, loaded])), [])
    // Before its rate is measured a peer copies nothing that is not late.
    assert.deepEqual(pickBlocks(peer('new', 0), 8, context(wants, [busy])), [])
  })

  test('end-game: a request its holder is late on is copied whatever the rates', async () => {
    const [late, fresh] = await cids(2)
    const wants = new WantList()
    const holder = peer('holder', 26 * MiB)
    const longAgo = performance.now() - 10_000
    for (const cid of [late, fresh] as CID[]) wants.add(cid)
    wants.assign(late as CID, holder.id, longAgo)
    holder.requests.set(String(late), longAgo)
    wants.assign(fresh as CID, holder.id, performance.now())
    holder.requests.set(String(fresh), performance.now())
    const copies = pickBlocks(peer('new', 0), 8, context(wants, [holder]))
    assert.deepEqual(copies.map(String), [String(late)])
    // At most endGameDuplicates peers are asked for one block.
    const full = new WantList()
    full.add(late as CID)
    for (let i = 0; i < limits.endGameDuplicates; i++) full.assign(late as CID, `p${i}`, longAgo)
    assert.deepEqual(pickBlocks(peer('new', 0), 8, context(full, [holder])), [])
  })
})
