/**
 * Storage challenges in one process (fake delegation authority): an honest keeper proves its
 * copy, by precomputed range challenges and then by whole blocks once the pool is used up; one
 * whose blocks were deleted or altered behind Lateral's back fails with a clear reason; checks
 * come at random times on their own; a keeper out of reach or rate-limiting is not a failed proof.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { checkPath, walk } from '../src/storage/dag-walk.ts'
import { type CheckOutcome, STORAGE_PROTOCOL } from '../src/storage/index.ts'
import { waitFor } from '../src/testing/wait.ts'
import { type StoragePeer, type StoragePeers, storagePeers } from './helpers/storage-peers.ts'

const CHUNK = 64 * 1024

async function place(owner: StoragePeer, keeper: StoragePeer, size: number): Promise<string> {
  const bytes = randomBytes(size)
  const { cid } = await owner.content.add([{ path: 'f', content: [bytes], size }], { chunker: `size-${CHUNK}` })
  keeper.authority.give(owner.identity, { quota: 64 << 20 })
  const [outcome] = await owner.storage.put(cid, keeper.net.peerId)
  assert.equal(outcome?.status, 'kept', outcome?.error)
  return cid
}

/** Every block of a DAG, as the keeper stores it. */
async function dagBlocks(peer: StoragePeer, cid: string): Promise<CID[]> {
  const out: CID[] = []
  const stack = [CID.parse(cid)]
  while (stack.length > 0) {
    const c = stack.pop() as CID
    out.push(c)
    const path = await walk(peer.blocks, c, [])
    if (c.code !== raw.code) {
      const { decode } = await import('@ipld/dag-pb')
      stack.push(...decode((path[0] as { bytes: Uint8Array }).bytes).Links.map((l) => l.Hash))
    }
  }
  return out
}

describe('storage challenges (in process)', { timeout: 60_000 }, () => {
  let peers: StoragePeers
  let owner: StoragePeer
  let keeper: StoragePeer

  before(async () => {
    peers = storagePeers()
    owner = await peers.add({ storage: { challengePool: 3, checkMeanMs: 0 } })
    keeper = await peers.add()
    await peers.connect(owner, keeper)
  })
  after(() => peers.stop())

  it('an honest keeper proves its copy: range challenges, then whole blocks when the pool is used up', async (t) => {
    const cid = await place(owner, keeper, 20 * CHUNK)
    const results: CheckOutcome[] = []
    for (let i = 0; i < 6; i++) results.push(...(await owner.storage.check(cid, keeper.net.peerId)))
    assert.deepEqual(
      results.map((r) => [r.kind, r.status, r.reason]),
      [
        ['range', 'proven', undefined],
        ['range', 'proven', undefined],
        ['range', 'proven', undefined],
        ['block', 'proven', undefined],
        ['block', 'proven', undefined],
        ['block', 'proven', undefined],
      ],
    )
    const [placed] = owner.storage.placed(keeper.net.peerId)
    assert.equal(placed?.challengesLeft, 0)
    assert.equal(placed?.lastProvenAt, results.at(-1)?.at)
    const rtts = results.map((r) => r.rttMs as number).sort((a, b) => a - b)
    t.diagnostic(`challenge round trip in process: median ${rtts[3]} ms (range and block)`)
  })

  it('fails a keeper whose blocks were deleted behind its back, saying which block is missing', async () => {
    const cid = await place(owner, keeper, 6 * CHUNK)
    for (const c of await dagBlocks(keeper, cid)) await keeper.blocks.delete(c)
    const [range] = await owner.storage.check(cid, keeper.net.peerId)
    assert.equal(range?.status, 'failed')
    assert.match(range?.reason ?? '', /^missing: block \S+ of \S+ is not stored here/)
    const placed = owner.storage.placed(keeper.net.peerId).find((p) => p.cid === cid)
    assert.equal(placed?.lastCheck?.status, 'failed')
    assert.equal(placed?.lastProvenAt, undefined)
  })

  it('fails a keeper that altered a block: a wrong digest, a proof that does not hash', async () => {
    const lone = await peers.add({ storage: { challengePool: 1, checkMeanMs: 0 } })
    await peers.connect(lone, keeper)
    const cid = await place(lone, keeper, 1000) // one raw block: every walk ends at the root
    await keeper.blocks.put(CID.parse(cid), randomBytes(1000))
    const [range] = await lone.storage.check(cid, keeper.net.peerId)
    assert.deepEqual([range?.kind, range?.status], ['range', 'failed'])
    assert.match(range?.reason ?? '', /wrong digest/)
    const [block] = await lone.storage.check(cid, keeper.net.peerId)
    assert.deepEqual([block?.kind, block?.status], ['block', 'failed'])
    assert.match(block?.reason ?? '', /bytes do not hash to/)
  })

  it('checks every copy at random times on its own', async () => {
    const busy = await peers.add({ storage: { checkMeanMs: 40 } })
    await peers.connect(busy, keeper)
    const checked: CheckOutcome[] = []
    busy.storage.addEventListener('storage:checked', (e) => checked.push(e.detail))
    const cid = await place(busy, keeper, 3 * CHUNK)
    await waitFor(() => checked.length >= 3, { what: 'three scheduled checks', timeoutMs: 10_000 })
    assert.ok(checked.every((c) => c.cid === cid && c.status === 'proven'))
    const gaps = checked.slice(1).map((c, i) => c.at - (checked[i] as CheckOutcome).at)
    assert.ok(new Set(gaps).size > 1, `random waits, not a fixed period: ${gaps}`)
    assert.ok((busy.storage.placed()[0]?.nextCheckAt ?? 0) > Date.now() - 1000)
  })

  it('a keeper out of reach is unreachable, not failed; one rate-limiting is too', async () => {
    const strict = await peers.add({ storage: { requestsPerMinute: 3 } })
    await peers.connect(owner, strict)
    const cid = await place(owner, strict, 2 * CHUNK) // the put takes one token
    const statuses: string[] = []
    for (let i = 0; i < 3; i++)
      statuses.push(...(await owner.storage.check(cid, strict.net.peerId)).map((r) => r.status))
    assert.deepEqual(statuses, ['proven', 'proven', 'unreachable'])
    assert.match(owner.storage.placed(strict.net.peerId)[0]?.lastCheck?.reason ?? '', /^rate-limited/)

    await strict.storage.stop()
    await strict.net.stop()
    const [gone] = await owner.storage.check(cid, strict.net.peerId)
    assert.equal(gone?.status, 'unreachable', gone?.reason)
  })
})

describe('whole-block proofs', () => {
  it('are refused when a block is swapped, missing, or one too many', async () => {
    const leaf = randomBytes(100)
    const leafCid = CID.create(1, raw.code, await sha256.digest(leaf))
    assert.equal(await checkPath(leafCid, [7], [leaf]), undefined)
    assert.match((await checkPath(leafCid, [7], [randomBytes(100)])) ?? '', /do not hash/)
    assert.match((await checkPath(leafCid, [7], [leaf, leaf])) ?? '', /stops early|more blocks/)
    assert.match((await checkPath(leafCid, [7], [])) ?? '', /no block/)
  })
})

describe('stopping while a check waits for its answer', () => {
  it('ends the check at once and records nothing for it', async (t) => {
    const peers = storagePeers()
    t.after(() => peers.stop())
    const owner = await peers.add({ storage: { checkMeanMs: 20 } })
    const keeper = await peers.add()
    await peers.connect(owner, keeper)
    const cid = await place(owner, keeper, 2 * CHUNK)
    // The keeper goes silent: it takes each request and never answers.
    await keeper.storage.stop()
    let asked = 0
    await keeper.net.handle(STORAGE_PROTOCOL, () => {
      asked++
    })
    await waitFor(() => asked > 0, { what: 'a scheduled check in flight' })
    const before = owner.storage.placed()[0]?.lastCheck
    const started = Date.now()
    await owner.storage.stop()
    assert.ok(Date.now() - started < 2_000, `stop took ${Date.now() - started} ms`)
    assert.deepEqual(owner.storage.placed().find((p) => p.cid === cid)?.lastCheck, before)
  })
})
