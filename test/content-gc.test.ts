/**
 * Garbage collection against running transfers (issue 10, defect 5): gc during a get, a pin and
 * an add never deletes the blocks those transfers are writing, including a block written while
 * gc is between listing what to keep and deleting the rest.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { MemoryDatastore } from 'datastore-core'
import type { CID } from 'multiformats/cid'
import { Content } from '../src/content/content.ts'
import type { LateralNode } from '../src/node/node.ts'
import { MemoryBlocks } from '../src/store/blockstore.ts'
import { ReadWriteLock } from '../src/store/read-write-lock.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'

const CHUNK = 256 * 1024
/** Adds use small chunks: the importer writes leaves in batches of 10 (its blockWriteConcurrency). */
const ADD_CHUNK = 64 * 1024
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of it) parts.push(chunk)
  return Buffer.concat(parts)
}

async function countBlocks(node: { content: { blockstore: { cids(): AsyncIterable<CID> } } }): Promise<number> {
  let n = 0
  for await (const _ of node.content.blockstore.cids()) n++
  return n
}

async function seedRandom(node: LateralNode, size: number): Promise<{ cid: string; bytes: Buffer }> {
  const bytes = randomBytes(size)
  const { cid } = await node.content.add([{ path: 'f.bin', size, content: [bytes] }], { chunker: `size-${CHUNK}` })
  return { cid, bytes }
}

/** A store whose listing waits at a gate: holds gc between choosing what to keep and deleting. */
class GatedBlocks extends MemoryBlocks {
  puts = 0
  listings = 0
  gate: Promise<void> | undefined
  override async put(cid: CID, value: Uint8Array): Promise<CID> {
    this.puts++
    return super.put(cid, value)
  }
  override async *cids(): AsyncGenerator<CID> {
    this.listings++
    await this.gate
    yield* super.cids()
  }
}

/** An add of 24 chunks whose source stops after 12 until `resume()`. */
function pausedAdd(content: Content): { add: Promise<{ cid: string }>; data: Buffer; resume: () => void } {
  const data = randomBytes(24 * ADD_CHUNK)
  let resume: () => void = () => {}
  const paused = new Promise<void>((r) => (resume = r))
  const source = async function* () {
    for (let i = 0; i < 24; i++) {
      if (i === 12) await paused
      yield data.subarray(i * ADD_CHUNK, (i + 1) * ADD_CHUNK)
    }
  }
  const add = content.add([{ path: 'f.bin', size: data.length, content: source() }], { chunker: `size-${ADD_CHUNK}` })
  return { add, data, resume }
}

describe('gc during transfers', { timeout: 60_000 }, () => {
  it('gc during a rate-limited get keeps every block; the get completes and writes the file', async (t) => {
    const net = await createMemoryNetwork(2, { content: { uploadLimit: 1024 * 1024 } })
    const dir = await mkdtemp(join(tmpdir(), 'lateral-gc-get-'))
    t.after(async () => {
      await net.stop()
      await rm(dir, { recursive: true, force: true })
    })
    const [seeder, downloader] = net.nodes as [LateralNode, LateralNode]
    await net.connect(1, 0)
    const { cid, bytes } = await seedRandom(seeder, 2 * 1024 * 1024)
    const collections: Array<Promise<{ removed: number }>> = []
    const out = join(dir, 'out.bin')
    const result = await downloader.content.get(cid, {
      output: out,
      onProgress: (p) => {
        // Three collections while blocks are arriving (progress comes at most every 200 ms).
        if (p.fetchedBlocks >= 2 && collections.length < 3) collections.push(downloader.content.gc())
      },
    })
    const gcs = await Promise.all(collections)
    assert.equal(gcs.length, 3, 'gc ran three times during the get')
    assert.equal(sha256(await readFile(out)), sha256(bytes))
    assert.equal(sha256(await collect(downloader.content.cat(cid))), sha256(bytes))
    assert.equal(await countBlocks(downloader), result.blocks, 'every block is still stored')
    assert.deepEqual(
      gcs.map((g) => g.removed),
      [0, 0, 0],
    )
  })

  it('gc during a pin keeps the blocks being fetched; the pin completes', async (t) => {
    const net = await createMemoryNetwork(2, { content: { uploadLimit: 1024 * 1024 } })
    t.after(() => net.stop())
    const [seeder, downloader] = net.nodes as [LateralNode, LateralNode]
    await net.connect(1, 0)
    const { cid, bytes } = await seedRandom(seeder, 2 * 1024 * 1024)
    const pin = downloader.content.pin(cid)
    await waitFor(async () => (await countBlocks(downloader)) >= 3, { what: 'blocks arriving', intervalMs: 20 })
    const first = await downloader.content.gc()
    const second = await downloader.content.gc()
    await pin
    assert.equal(first.removed + second.removed, 0)
    assert.equal(sha256(await collect(downloader.content.cat(cid))), sha256(bytes))
    assert.ok((await downloader.content.pins()).some((p) => p.cid === cid))
  })

  it('gc during an add keeps the blocks written so far; the add completes', async () => {
    const blocks = new GatedBlocks()
    const content = new Content({ blockstore: blocks, datastore: new MemoryDatastore() })
    const { add, data, resume } = pausedAdd(content)
    await waitFor(() => blocks.puts >= 10, { what: 'the first leaves stored' })
    const gc = await content.gc()
    assert.equal(gc.removed, 0, 'no block of the running add was collected')
    resume()
    const { cid } = await add
    assert.deepEqual(await collect(content.cat(cid)), data)
  })

  it('a block a transfer writes while gc is between listing and deleting is not collected', async () => {
    const blocks = new GatedBlocks()
    const content = new Content({ blockstore: blocks, datastore: new MemoryDatastore() })
    const { add, data, resume } = pausedAdd(content)
    await waitFor(() => blocks.puts >= 10, { what: 'the first leaves stored' })
    let open: () => void = () => {}
    blocks.gate = new Promise<void>((r) => (open = r))
    const gc = content.gc()
    await waitFor(() => blocks.listings > 0, { what: 'gc listing the store' })
    // gc has chosen what to keep and waits at the gate; the add writes the rest of its blocks
    // now. They either wait for gc to finish or land in the store: give them a moment to land.
    resume()
    await waitFor(() => blocks.puts >= 25, { timeoutMs: 1000, intervalMs: 20 }).catch(() => {})
    open()
    assert.equal((await gc).removed, 0)
    const { cid } = await add
    assert.deepEqual(await collect(content.cat(cid)), data)
  })

  it('a reader that stops early no longer protects what it read', async () => {
    const content = new Content({ blockstore: new MemoryBlocks(), datastore: new MemoryDatastore() })
    const data = randomBytes(4 * ADD_CHUNK)
    const { cid } = await content.add([{ path: 'f.bin', size: data.length, content: [data] }], {
      chunker: `size-${ADD_CHUNK}`,
    })
    for await (const _ of content.cat(cid)) break
    await content.unpin(cid)
    assert.equal((await content.gc()).removed, 5, 'the four leaves and the root were collected')
  })
})

describe('read-write lock', () => {
  it('readers share, a writer waits for them and goes before readers that came after it', async () => {
    const lock = new ReadWriteLock()
    const order: string[] = []
    const r1 = await lock.readLock()
    const r2 = await lock.readLock()
    const writer = lock.writeLock().then((release) => {
      order.push('writer')
      return release
    })
    const reader = lock.readLock().then((release) => {
      order.push('late reader')
      return release
    })
    assert.deepEqual([lock.readers, lock.waiting], [2, 2])
    r1()
    r2()
    const w = await writer
    assert.ok(lock.writing)
    assert.deepEqual(order, ['writer'])
    w()
    ;(await reader)()
    assert.deepEqual(order, ['writer', 'late reader'])
    assert.deepEqual([lock.readers, lock.writing, lock.waiting], [0, false, 0])
  })

  it('an aborted waiter leaves the queue and lets the others in', async () => {
    const lock = new ReadWriteLock()
    const r = await lock.readLock()
    const controller = new AbortController()
    const writer = lock.writeLock(controller.signal)
    const reader = lock.readLock()
    controller.abort(new Error('gave up'))
    await assert.rejects(writer, /gave up/)
    ;(await reader)()
    r()
    assert.deepEqual([lock.readers, lock.writing, lock.waiting], [0, false, 0])
  })
})
