/**
 * `add` reads and stores at once: each leaf is hashed and stored as soon as its chunk is read
 * (src/content/import-options.ts, eagerLeaves). With the importer's own leaf writer nothing of a
 * batch of 10 leaves (its blockWriteConcurrency) was stored before all 10 were read, so reading
 * and writing took turns.
 * The CIDs are unchanged (content-local.test.ts checks them against `ipfs_cid`).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { MemoryBlockstore } from 'blockstore-core'
import { exporter } from 'ipfs-unixfs-exporter'
import { CID } from 'multiformats/cid'
import { fileContent } from '../src/content/exporter.ts'
import { importCandidates } from '../src/content/importer.ts'

describe('add reads and stores at once', () => {
  for (const cidVersion of [1, 0] as const) {
    it(`stores the first leaf long before the source is read (CIDv${cidVersion})`, async () => {
      const events: string[] = []
      const store = new (class extends MemoryBlockstore {
        override put(cid: CID, bytes: Uint8Array) {
          events.push('put')
          return super.put(cid, bytes)
        }
      })()
      const chunk = 16 * 1024
      const chunks = Array.from({ length: 80 }, () => new Uint8Array(randomBytes(chunk)))
      async function* source() {
        for (const [i, c] of chunks.entries()) {
          events.push(`read ${i}`)
          // A read that takes a moment, as a file's does.
          await new Promise((resolve) => setImmediate(resolve))
          yield c
        }
      }
      const result = await importCandidates([{ path: 'f', content: source(), size: chunk * chunks.length }], store, {
        chunker: `size-${chunk}`,
        cidVersion,
      })
      const firstPut = events.indexOf('put')
      const readsBefore = events.slice(0, firstPut).filter((e) => e.startsWith('read')).length
      assert.ok(readsBefore <= 3, `${readsBefore} chunks read before the first leaf was stored`)
      // Every leaf and the root were stored, and the file reads back whole.
      assert.equal(events.filter((e) => e === 'put').length, chunks.length + 1)
      const parts: Uint8Array[] = []
      for await (const p of fileContent(await exporter(CID.parse(result.cid), store), store)) parts.push(p)
      assert.deepEqual(Buffer.concat(parts), Buffer.concat(chunks))
    })
  }
})
