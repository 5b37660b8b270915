/**
 * Blocks hashed by the filesystem blockstore as it writes them (`putHashed`, src/store/
 * blockstore.ts and slot-hasher.ts): a block written directly is hashed by a worker in its
 * aligned buffer (without workers, on the libuv pool) while its file is written; others are
 * hashed before they are written. Whichever
 * way, a block is kept under the name its digest gives, or not at all (a received block that does
 * not match the CID asked for): SHA-256 and SHA-512, in parts, more blocks at once than buffers,
 * without workers, once the workers are gone. And a download through such a store still drops a
 * peer sending corrupt blocks and keeps nothing it sent.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { Worker } from 'node:worker_threads'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { encodeMessage } from '../src/content/blocks-message.ts'
import { blockMatches } from '../src/content/verify.ts'
import { HASH_WORKER_RESTART_MS } from '../src/core/constants.ts'
import type { LateralNode } from '../src/node/node.ts'
import { FsBlockstore } from '../src/store/blockstore.ts'
import {
  type HashWorkerDeath,
  SlotHasher,
  type WasmMemory,
  type WasmMemoryConstructor,
} from '../src/store/slot-hasher.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'
import { impersonate } from './helpers/lying-provider.ts'
import { blockFile, directWorksIn } from './helpers/raw-blocks.ts'

const MiB = 1024 * 1024

type Algorithm = 'sha256' | 'sha512'

function cidOf(bytes: Uint8Array, algorithm: Algorithm = 'sha256'): CID {
  const code = algorithm === 'sha256' ? 0x12 : 0x13
  return CID.createV1(raw.code, Digest.create(code, createHash(algorithm).update(bytes).digest()))
}

/** `bytes` cut into `n` views at odd offsets of one larger buffer, as a stream delivers them. */
function split(bytes: Uint8Array, n: number): Uint8Array[] {
  const backing = new Uint8Array(bytes.length + 64)
  backing.set(bytes, 31)
  const view = backing.subarray(31, 31 + bytes.length)
  const parts: Uint8Array[] = []
  const step = Math.ceil(bytes.length / n)
  for (let at = 0; at < bytes.length; at += step) parts.push(view.subarray(at, Math.min(at + step, bytes.length)))
  return parts
}

/** The name a download gives: `cid` when the digest is its own, else nothing kept. */
const expecting = (cid: CID) => (digest: Uint8Array) =>
  Buffer.compare(digest, cid.multihash.digest) === 0 ? cid : undefined

describe('blockstore putHashed', () => {
  const dirs: string[] = []
  const stores: FsBlockstore[] = []
  after(async () => {
    for (const s of stores) await s.close().catch(() => {})
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })
  const fresh = async (init: ConstructorParameters<typeof FsBlockstore>[1] = {}) => {
    const dir = await mkdtemp(join(tmpdir(), 'lateral-hashed-'))
    dirs.push(dir)
    const store = new FsBlockstore(dir, init)
    await store.open()
    stores.push(store)
    return { dir, store }
  }
  const leftovers = async (dir: string) => (await readdir(join(dir, '.incoming'))).length

  it('keeps a block under its digest, hashed by a worker in its buffer; SHA-256 and SHA-512, in parts', async (t) => {
    const { dir, store } = await fresh()
    if (!directWorksIn(dir))
      return t.skip('this file system has no O_DIRECT: blocks are hashed before they are written')
    assert.equal(store.hashesOffThreadFor(MiB), true)
    // Blocks written while the worker starts are hashed here: wait for it.
    assert.equal(await store.hashWorkers(), 1)
    assert.equal(store.hashesOffThreadFor(MiB - 100), false, 'not written directly: hashed before it is written')
    assert.equal(store.hashesOffThreadFor(4096), false, 'too small to write directly')
    for (const algorithm of ['sha256', 'sha512'] as const) {
      const bytes = randomBytes(MiB)
      const cid = cidOf(bytes, algorithm)
      assert.ok((await store.putHashed(split(bytes, 7), algorithm, expecting(cid)))?.equals(cid))
      assert.equal(Buffer.compare(await readFile(blockFile(dir, cid)), bytes), 0)
      // An import names the block by its digest alone.
      const fresh = randomBytes(MiB)
      const named = await store.putHashed([fresh], algorithm, (d) =>
        CID.createV1(raw.code, Digest.create(algorithm === 'sha256' ? 0x12 : 0x13, d)),
      )
      assert.ok(named?.equals(cidOf(fresh, algorithm)))
      assert.ok(await store.has(named as CID))
    }
    assert.equal(store.writes.direct, 4)
    assert.equal(store.writes.hashedOffThread, 4)
  })

  it('keeps nothing of a block that does not match, and its buffer serves the next ones', async (t) => {
    const { dir, store } = await fresh({ directSlots: 2 })
    if (!directWorksIn(dir)) return t.skip('this file system has no O_DIRECT')
    const asked = cidOf(randomBytes(MiB))
    const corrupt = randomBytes(MiB)
    assert.equal(await store.putHashed(split(corrupt, 3), 'sha256', expecting(asked)), undefined)
    assert.equal(await store.has(asked), false)
    assert.equal(await leftovers(dir), 0, 'its file was removed')
    // Good and corrupt blocks, more at once than buffers: every verdict right, every kept block whole.
    const blocks = Array.from({ length: 12 }, (_, i) => {
      const bytes = randomBytes(MiB)
      return { bytes, cid: i % 3 === 0 ? cidOf(randomBytes(64)) : cidOf(bytes) }
    })
    const results = await Promise.all(blocks.map((b) => store.putHashed(split(b.bytes, 4), 'sha256', expecting(b.cid))))
    for (const [i, b] of blocks.entries()) {
      if (i % 3 === 0) {
        assert.equal(results[i], undefined, `block ${i} is corrupt`)
        assert.equal(await store.has(b.cid), false)
      } else {
        assert.ok(results[i]?.equals(b.cid), `block ${i} matches`)
        assert.equal(Buffer.compare(await readFile(blockFile(dir, b.cid)), b.bytes), 0, `block ${i} kept whole`)
      }
    }
    assert.equal(await leftovers(dir), 0)
    // The journal lists only what was kept: a crash now re-checks nothing that was dropped.
    const journal = await readFile(join(dir, '.unsynced'), 'utf8')
    for (const [i, b] of blocks.entries()) assert.equal(journal.includes(b.cid.toString()), i % 3 !== 0)
  })

  it('keeps the copy already stored: a block put again is not written over it', async (t) => {
    const { dir, store } = await fresh()
    if (!directWorksIn(dir)) return t.skip('this file system has no O_DIRECT')
    const bytes = randomBytes(MiB)
    const cid = cidOf(bytes)
    await store.put(cid, bytes)
    await store.flush() // durable, out of the journal
    const { ino } = await stat(blockFile(dir, cid))
    assert.ok((await store.putHashed([bytes], 'sha256', expecting(cid)))?.equals(cid))
    assert.equal((await stat(blockFile(dir, cid))).ino, ino, 'the durable copy stays in place')
    assert.equal(await leftovers(dir), 0, 'the second copy was removed')
    await assert.rejects(
      readFile(join(dir, '.unsynced'), 'utf8'),
      { code: 'ENOENT' },
      'nothing to re-check after a crash',
    )
  })

  it('without workers hashes blocks written directly on the libuv pool, and others before they are written', async () => {
    const { dir, store } = await fresh({ hashThreads: 0 })
    const direct = directWorksIn(dir)
    assert.equal(store.hashesOffThreadFor(MiB), direct)
    const aligned = randomBytes(MiB)
    const odd = randomBytes(MiB - 100) // through the page cache
    const small = randomBytes(1000)
    for (const bytes of [aligned, odd, small]) {
      const cid = cidOf(bytes)
      assert.ok((await store.putHashed(split(bytes, 3), 'sha256', expecting(cid)))?.equals(cid))
      assert.equal(Buffer.compare(await readFile(blockFile(dir, cid)), bytes), 0)
      assert.equal(await store.putHashed([bytes], 'sha256', expecting(cidOf(randomBytes(8)))), undefined)
    }
    // The aligned block, good and corrupt, hashed from its slot; the other two here.
    assert.equal(store.writes.hashedOffThread, direct ? 2 : 0)
    assert.equal(await leftovers(dir), 0)
  })

  it('still verifies once its workers are gone', async (t) => {
    const { dir, store } = await fresh()
    if (!directWorksIn(dir)) return t.skip('this file system has no O_DIRECT')
    assert.equal(await store.hashWorkers(), 1)
    const first = randomBytes(MiB)
    assert.ok(await store.putHashed([first], 'sha256', expecting(cidOf(first))))
    assert.equal(store.writes.hashedOffThread, 1)
    // close() ends the workers; the store stays usable and hashes on this thread.
    await store.close()
    const bytes = randomBytes(MiB)
    assert.ok((await store.putHashed(split(bytes, 2), 'sha256', expecting(cidOf(bytes))))?.equals(cidOf(bytes)))
    assert.equal(await store.putHashed([bytes], 'sha256', expecting(cidOf(randomBytes(8)))), undefined)
    assert.equal(store.writes.hashedOffThread, 1, 'hashed here')
  })
})

describe('slot hasher', () => {
  it('hashes ranges of shared memory on workers once they are up; gives undefined before and once closed', async () => {
    const Memory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryConstructor } }).WebAssembly.Memory
    const memory: WasmMemory = new Memory({ initial: 32, maximum: 32, shared: true })
    const view = new Uint8Array(memory.buffer)
    view.set(randomBytes(view.length))
    const hasher = new SlotHasher(memory, 2)
    // Asked before its workers are up, it leaves the hashing to the caller (no wait for a thread).
    assert.equal(await hasher.digest('sha256', 0, 10), undefined)
    assert.equal(await hasher.start(), 2)
    const ranges = Array.from({ length: 20 }, (_, i) => ({ start: i * 4096 + i, length: 65_536 - i * 7 }))
    const digests = await Promise.all(ranges.map((r) => hasher.digest('sha512', r.start, r.length)))
    assert.equal(hasher.threads, 2)
    for (const [i, r] of ranges.entries()) {
      const expected = createHash('sha512')
        .update(view.subarray(r.start, r.start + r.length))
        .digest()
      assert.equal(Buffer.compare(digests[i] as Uint8Array, expected), 0, `range ${i}`)
    }
    await hasher.close()
    assert.equal(await hasher.digest('sha256', 0, 10), undefined)
  })
  it('where no thread can start, leaves every block to the caller without trying again per block', async () => {
    const Memory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryConstructor } }).WebAssembly.Memory
    const memory: WasmMemory = new Memory({ initial: 1, maximum: 1, shared: true })
    let tries = 0
    const hasher = new SlotHasher(memory, 2, {
      spawn: () => {
        tries++
        throw new Error('no threads')
      },
    })
    for (let i = 0; i < 50; i++) assert.equal(await hasher.digest('sha256', 0, 64), undefined)
    assert.equal(await hasher.start(), 0)
    assert.equal(tries, 1)
    await hasher.close()
  })

  it('reports a worker that dies, hashes on the caller meanwhile, and replaces it after a pause that doubles', async () => {
    const Memory = (globalThis as unknown as { WebAssembly: { Memory: WasmMemoryConstructor } }).WebAssembly.Memory
    const memory: WasmMemory = new Memory({ initial: 16, maximum: 16, shared: true })
    const view = new Uint8Array(memory.buffer)
    view.set(randomBytes(view.length))
    const spawned: Worker[] = []
    const deaths: HashWorkerDeath[] = []
    const hasher = new SlotHasher(memory, 1, {
      spawn: (source, options) => {
        const w = new Worker(source, options)
        spawned.push(w)
        return w
      },
      onDeath: (d) => deaths.push(d),
    })
    try {
      const expected = createHash('sha256').update(view.subarray(0, 4096)).digest()
      assert.equal(await hasher.start(), 1)
      assert.equal(Buffer.compare((await hasher.digest('sha256', 0, 4096)) as Uint8Array, expected), 0)
      // Killed from outside (as by a crash): reported with its exit code, and not replaced at once.
      await spawned[0]?.terminate()
      await waitFor(() => (deaths.length === 1 ? true : undefined), { timeoutMs: 5_000, what: 'the death reported' })
      assert.equal(deaths[0]?.exitCode, 1)
      assert.equal(deaths[0]?.restartInMs, HASH_WORKER_RESTART_MS)
      assert.equal(hasher.threads, 0)
      assert.equal(await hasher.digest('sha256', 0, 4096), undefined, 'the caller hashes while there is no worker')
      assert.equal(spawned.length, 1, 'no replacement before the pause')
      // After the pause, the next job starts a replacement, which hashes once it is up.
      await new Promise((r) => setTimeout(r, HASH_WORKER_RESTART_MS + 50))
      assert.equal(await hasher.digest('sha256', 0, 4096), undefined, 'the replacement is still starting')
      assert.equal(spawned.length, 2)
      assert.equal(await hasher.start(), 1)
      assert.equal(Buffer.compare((await hasher.digest('sha256', 0, 4096)) as Uint8Array, expected), 0)
      // Dying again soon after: the pause doubles.
      await spawned[1]?.terminate()
      await waitFor(() => (deaths.length === 2 ? true : undefined), { timeoutMs: 5_000, what: 'the second death' })
      assert.equal(deaths[1]?.restartInMs, 2 * HASH_WORKER_RESTART_MS)
    } finally {
      await hasher.close()
    }
    // Workers ended by close() are not deaths.
    assert.equal(deaths.length, 2)
  })
})

describe('a download through a store that hashes as it writes', { timeout: 120_000 }, () => {
  it('drops a peer serving corrupt blocks, keeps nothing it sent and completes from the honest one', async (t) => {
    const homes = await mkdtemp(join(tmpdir(), 'lateral-hashed-net-'))
    // The honest seeder is rate-limited so the liar certainly gets asked for blocks.
    const net = await createMemoryNetwork(3, { content: { uploadLimit: 4 * 1024 * 1024 } }, { homes })
    // Hooks run in order: the nodes stop before their homes go.
    t.after(() => net.stop())
    t.after(() => rm(homes, { recursive: true, force: true }))
    const [good, liar, downloader] = net.nodes as [LateralNode, LateralNode, LateralNode]
    await net.connectAll()
    // The liar says it has everything and answers every want with random bytes.
    await impersonate(liar, (c) => encodeMessage({ t: 'block', cid: c, data: randomBytes(256 * 1024) }))
    const bytes = randomBytes(4 * 1024 * 1024)
    const { cid } = await good.content.add([{ path: 'f.bin', size: bytes.length, content: [bytes] }], {
      chunker: 'size-262144',
    })
    const store = downloader.content.blockstore as FsBlockstore
    await store.hashWorkers() // else the first blocks, written while it starts, are hashed as they arrive
    const result = await downloader.content.get(cid)
    const parts: Uint8Array[] = []
    for await (const chunk of downloader.content.cat(cid)) parts.push(chunk)
    assert.equal(Buffer.compare(Buffer.concat(parts), bytes), 0)
    const tally = result.peers.find((p) => p.peerId === liar.peerId)
    assert.equal(tally?.state, 'corrupt', 'the liar was dropped')
    assert.equal(tally?.bytes, 0, 'nothing it sent was taken')
    assert.equal(result.peers.find((p) => p.peerId === good.peerId)?.bytes, result.bytes)
    assert.ok(downloader.net.penalty(liar.peerId) > 0, 'the liar was penalised')
    let stored = 0
    for await (const c of store.cids()) {
      assert.ok(blockMatches(c, await store.getBytes(c)), `stored block ${c} matches its CID`)
      stored++
    }
    assert.ok(stored > 16)
    assert.deepEqual(await readdir(join(homes, 'node-2', 'blocks', '.incoming')), [], 'no file of a corrupt block left')
    if (!store.writes.directOn)
      return t.skip('this file system has no O_DIRECT: the leaves were hashed as they arrived')
    assert.ok(store.writes.hashedOffThread >= 16, 'the leaves were hashed by the store')
  })
})
