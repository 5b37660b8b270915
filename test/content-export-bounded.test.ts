/**
 * Reading a stored file back (export to disk, `cat`) holds a bounded number of blocks, whatever
 * the file's size: `fileContent` reads at most `readAhead` blocks ahead of its consumer on each
 * level of the DAG. The exporter's own `content()` read every child of a node at once and
 * queued them without waiting: a 1 GiB `get -o` took 1.4 GiB of memory. Also: the bytes come
 * out in order, for Lateral's and classic IPFS layouts, and a DAG whose leaves do not add up to
 * the size its root declares is refused.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import * as dagPb from '@ipld/dag-pb'
import { MemoryBlockstore } from 'blockstore-core'
import { UnixFS } from 'ipfs-unixfs'
import { exporter, type ReadableStorage } from 'ipfs-unixfs-exporter'
import { importer } from 'ipfs-unixfs-importer'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { fileContent, MAX_FILE_DEPTH } from '../src/content/exporter.ts'
import { importerOptions } from '../src/content/import-options.ts'
import { InvalidInputError } from '../src/core/errors.ts'

/** A store that counts the blocks read from it. */
function counting(store: MemoryBlockstore): { reader: ReadableStorage; reads: () => number } {
  let n = 0
  return {
    reader: {
      get: (cid, options) => {
        n++
        return store.get(cid, options)
      },
    },
    reads: () => n,
  }
}

async function rawLeaf(store: MemoryBlockstore, size: number): Promise<{ cid: CID; size: bigint }> {
  const bytes = new Uint8Array(randomBytes(size))
  const cid = CID.createV1(raw.code, await sha256.digest(bytes))
  await store.put(cid, bytes)
  return { cid, size: BigInt(size) }
}

/** A UnixFS file node over `children`, declaring their sizes. */
async function fileNode(
  store: MemoryBlockstore,
  children: Array<{ cid: CID; size: bigint }>,
): Promise<{ cid: CID; size: bigint }> {
  const unixfs = new UnixFS({ type: 'file', blockSizes: children.map((c) => c.size) })
  const node = dagPb.encode({
    Data: unixfs.marshal(),
    Links: children.map((c) => ({ Hash: c.cid, Tsize: Number(c.size) })),
  })
  const cid = CID.createV1(dagPb.code, await sha256.digest(node))
  await store.put(cid, node)
  return { cid, size: unixfs.fileSize() }
}

async function drain(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const p of source) parts.push(p)
  return Buffer.concat(parts)
}

async function imported(
  bytes: Uint8Array,
  chunker: string,
  cidVersion: 0 | 1,
): Promise<{ store: MemoryBlockstore; root: CID }> {
  const store = new MemoryBlockstore()
  let root: CID | undefined
  for await (const e of importer([{ path: 'f', content: [bytes] }], store, importerOptions({ chunker, cidVersion })))
    root = e.cid
  return { store, root: root as CID }
}

describe('reading a stored file back', () => {
  it('reads a bounded number of blocks ahead of a consumer that has not asked for more', async () => {
    const bytes = new Uint8Array(randomBytes(64 * 16 * 1024))
    const { store, root } = await imported(bytes, 'size-16384', 1)
    const { reader, reads } = counting(store)
    const entry = await exporter(root, reader)
    const before = reads()
    const it = fileContent(entry, reader, { readAhead: 4 })[Symbol.asyncIterator]()
    const first = await it.next()
    assert.equal(first.value?.length, 16 * 1024)
    await new Promise((resolve) => setTimeout(resolve, 50))
    // The first leaf and at most 4 read ahead of the next one asked for.
    assert.ok(reads() - before <= 5, `${reads() - before} blocks read for one chunk`)
    await it.return(undefined)

    // The exporter's own reader, for comparison: every leaf at once.
    const old = counting(store)
    const oldEntry = await exporter(root, old.reader)
    assert.equal(oldEntry.type, 'file')
    if (oldEntry.type !== 'file') return
    const o = oldEntry.content()[Symbol.asyncIterator]()
    await o.next()
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.ok(old.reads() > 32, `the exporter read ${old.reads()} blocks ahead`)
    await o.return(undefined)
  })

  for (const [name, chunker, version] of [
    ['Lateral layout (raw leaves, CIDv1)', 'size-4096', 1],
    ['classic IPFS layout (dag-pb leaves, CIDv0, 174 links)', 'size-1024', 0],
  ] as const) {
    it(`gives back the bytes in order: ${name}`, async () => {
      // Enough leaves for two levels in the classic layout (more than 174).
      const bytes = new Uint8Array(randomBytes(200 * 1024 + 123))
      const { store, root } = await imported(bytes, chunker, version)
      const entry = await exporter(root, store)
      const parts: Uint8Array[] = []
      for await (const chunk of fileContent(entry, store, { readAhead: 3 })) parts.push(chunk)
      assert.deepEqual(new Uint8Array(Buffer.concat(parts)), bytes)
    })
  }

  it('holds a bounded number of blocks across levels: a few read ahead in all, plus the next one on each level', async () => {
    const store = new MemoryBlockstore()
    // Root -> 6 inner nodes -> 6 raw leaves each (36 leaves of 1 KiB).
    const inner: Array<{ cid: CID; size: bigint }> = []
    for (let n = 0; n < 6; n++) {
      const leaves = await Promise.all(Array.from({ length: 6 }, () => rawLeaf(store, 1024)))
      inner.push(await fileNode(store, leaves))
    }
    const root = await fileNode(store, inner)
    const { reader, reads } = counting(store)
    const entry = await exporter(root.cid, reader)
    const before = reads()
    const it = fileContent(entry, reader, { readAhead: 2 })[Symbol.asyncIterator]()
    await it.next()
    await new Promise((resolve) => setTimeout(resolve, 50))
    // The first inner node and leaf, plus one more ahead in all (readAhead 2), plus at most the
    // next block needed on each of the 2 levels.
    assert.ok(reads() - before <= 5, `${reads() - before} blocks read for one chunk`)
    let total = 1024
    for (let r = await it.next(); !r.done; r = await it.next()) total += r.value.length
    assert.equal(total, 36 * 1024)
  })

  it('refuses a DAG deeper than MAX_FILE_DEPTH, and reads no child declared empty', async () => {
    const store = new MemoryBlockstore()
    let node = await fileNode(store, [await rawLeaf(store, 10)])
    for (let d = 0; d < MAX_FILE_DEPTH + 2; d++) node = await fileNode(store, [node])
    const deep = await exporter(node.cid, store)
    await assert.rejects(
      drain(fileContent(deep, store)),
      (err: Error) => err instanceof InvalidInputError && /deeper than/.test(err.message),
    )

    // A link declared empty whose block is nowhere: never asked for.
    const missing = CID.createV1(raw.code, await sha256.digest(new Uint8Array([1, 2, 3])))
    const leaf = await rawLeaf(store, 100)
    const root = await fileNode(store, [{ cid: missing, size: 0n }, leaf])
    const { reader, reads } = counting(store)
    const entry = await exporter(root.cid, reader)
    const before = reads()
    assert.equal((await drain(fileContent(entry, reader))).length, 100)
    assert.equal(reads() - before, 1)
  })

  it('refuses a file whose leaves do not add up to the size its root declares', async () => {
    const store = new MemoryBlockstore()
    const leaf = new Uint8Array(randomBytes(50))
    const leafCid = CID.createV1(raw.code, await sha256.digest(leaf))
    await store.put(leafCid, leaf)
    // The root claims 100 bytes under a leaf of 50.
    const unixfs = new UnixFS({ type: 'file', blockSizes: [100n] })
    const node = dagPb.encode({ Data: unixfs.marshal(), Links: [{ Hash: leafCid, Tsize: 50 }] })
    const rootCid = CID.createV1(dagPb.code, await sha256.digest(node))
    await store.put(rootCid, node)
    const entry = await exporter(rootCid, store)
    await assert.rejects(
      (async () => {
        for await (const _ of fileContent(entry, store)) {
          // drain
        }
      })(),
      (err: Error) => err instanceof InvalidInputError && /holds 50 bytes, not the 100/.test(err.message),
    )
  })
})
