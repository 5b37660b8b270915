/**
 * Garbage collection that never takes the blocks of a running transfer.
 *
 * gc keeps every stored block under a pinned root or under a root *retained* by a running
 * transfer, and deletes the rest. Two rules make that hold while transfers write:
 *
 * - A transfer retains its roots before it writes anything: a get or pin its root (every block
 *   it stores hangs under a stored parent, so the walk from the root finds it), an add each
 *   block it writes, folded into the parent that links to it once that is written (so the set
 *   stays as small as the importer's unfinished levels). The retention is released only after
 *   the pin is saved; gc reads the retained roots before the pins, so a transfer finishing in
 *   between is seen in one or the other.
 * - gc runs under the write lock of a read-write lock and every block write of a transfer under
 *   a read lock (as Helia runs GC), so no block is written between gc choosing what to keep and
 *   deleting the rest. Writes wait for a running gc; gc waits for the writes under way (each one
 *   block) and, being first in line, is not starved by those that follow.
 */
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import type { Logger } from '../core/logger.ts'
import { type Blocks, type HashAlgorithm, ReadWriteLock } from '../store/index.ts'
import { linksOf } from './dag.ts'
import type { SessionBlockstore } from './swarm-session.ts'
import { hashOf } from './verify.ts'

/** The roots one running transfer protects from gc. */
export interface Retention {
  /** Keep the stored DAG under `root` while the transfer runs. */
  keep(root: CID): void
  /**
   * A block the transfer wrote (an import, bottom-up): kept; the blocks it links to are then
   * kept through it and leave the set.
   */
  wrote(cid: CID, bytes: Uint8Array): void
  /** The transfer is over (its pin, if any, is saved). Idempotent. */
  release(): void
}

export interface GcResult {
  removed: number
  bytes: number
}

export interface CollectorComponents {
  blockstore: Blocks
  /** The pinned roots, read when a collection starts. */
  pinnedRoots(): Promise<CID[]>
  log: Logger
}

export interface WritableBlocks {
  put(cid: CID, bytes: Uint8Array): Promise<CID>
  /** Store a block named by its bytes, hashed by the store as it writes it (Blocks.putHashed). */
  putHashed?(bytes: Uint8Array, algorithm: HashAlgorithm, name: (digest: Uint8Array) => CID): Promise<CID>
  /** Whether `putHashed` hashes a block of `length` bytes off the event loop now. */
  hashesOffThreadFor?(length: number): boolean
}

export class GarbageCollector {
  readonly #c: CollectorComponents
  readonly #lock = new ReadWriteLock()
  readonly #retained = new Set<Map<string, CID>>()
  /** The blockstore as transfers use it: reads as they are, each write under a read lock. */
  readonly store: SessionBlockstore

  constructor(components: CollectorComponents) {
    this.#c = components
    const blocks = components.blockstore
    const lock = this.#lock
    this.store = {
      has: (cid) => blocks.has(cid),
      getBytes: (cid) => blocks.getBytes(cid),
      readInto: (cid, target) => blocks.readInto(cid, target),
      size: (cid) => blocks.size(cid),
      put: (cid, bytes) => lock.read(() => blocks.put(cid, bytes)),
    }
    const putHashed = blocks.putHashed?.bind(blocks)
    const offThread = blocks.hashesOffThreadFor?.bind(blocks)
    if (putHashed !== undefined && offThread !== undefined) {
      this.store.checksOffThread = offThread
      this.store.putChecked = (cid, parts) => {
        const algorithm = hashOf(cid)
        if (algorithm === undefined) throw new TypeError(`the store does not hash ${cid}`)
        const expected = cid.multihash.digest
        const same = (digest: Uint8Array) => digest.length === expected.length && Buffer.compare(digest, expected) === 0
        let verdict: { resolve: (ok: boolean) => void; reject: (err: unknown) => void } | undefined
        const matches = new Promise<boolean>((resolve, reject) => (verdict = { resolve, reject }))
        const stored = lock
          .read(() =>
            putHashed(
              parts,
              algorithm,
              (d) => (same(d) ? cid : undefined),
              (d) => verdict?.resolve(same(d)),
            ),
          )
          .then(() => {})
        // A write that fails before the digest is known fails the verdict too (else a no-op).
        stored.catch((err: unknown) => verdict?.reject(err))
        return { matches, stored }
      }
    }
  }

  /** Protect roots from gc until `release()`; give a root now or later with `keep()`. */
  retain(root?: CID): Retention {
    const roots = new Map<string, CID>()
    this.#retained.add(roots)
    const retention: Retention = {
      keep: (cid) => void roots.set(cid.toString(), cid),
      wrote: (cid, bytes) => {
        if (cid.code === dagPb.code) for (const link of linksOf(cid, bytes)) roots.delete(link.toString())
        roots.set(cid.toString(), cid)
      },
      release: () => void this.#retained.delete(roots),
    }
    if (root !== undefined) retention.keep(root)
    return retention
  }

  /** The blockstore as an import writes it: writes under a read lock, each recorded in `retention`. */
  importStore(retention: Retention): WritableBlocks {
    const blocks = this.#c.blockstore
    const store: WritableBlocks = {
      put: (cid, bytes) =>
        this.#lock.read(async () => {
          // A file often repeats a chunk (zeros): written once.
          if (!(await blocks.has(cid))) await blocks.put(cid, bytes)
          // Recorded before the lock is released: a gc that starts next sees it.
          retention.wrote(cid, bytes)
          return cid
        }),
    }
    const putHashed = blocks.putHashed?.bind(blocks)
    const offThread = blocks.hashesOffThreadFor?.bind(blocks)
    if (putHashed !== undefined && offThread !== undefined) {
      store.hashesOffThreadFor = offThread
      // A block already stored is not written again (putHashed keeps the first copy).
      store.putHashed = (bytes, algorithm, name) =>
        this.#lock.read(async () => {
          const cid = (await putHashed([bytes], algorithm, name)) as CID
          retention.wrote(cid, bytes)
          return cid
        })
    }
    return store
  }

  /** Delete every stored block that no pin and no running transfer needs. */
  async collect(): Promise<GcResult> {
    const result = await this.#lock.write(async () => {
      const started = performance.now()
      // Retained roots first, then pins: a transfer that saves its pin and releases its roots
      // meanwhile is in one list or the other.
      const retained = [...this.#retained].flatMap((roots) => [...roots.values()])
      const keep = await this.#mark([...retained, ...(await this.#c.pinnedRoots())])
      const blocks = this.#c.blockstore
      let removed = 0
      let bytes = 0
      for await (const cid of blocks.cids()) {
        if (keep.has(cid.toString())) continue
        bytes += await blocks.size(cid)
        await blocks.delete(cid)
        removed++
      }
      this.#c.log.info('garbage collected', {
        removed,
        bytes,
        kept: keep.size,
        retainedRoots: retained.length,
        ms: Math.round(performance.now() - started),
      })
      return { removed, bytes }
    })
    // A checkpoint makes the deletions durable, and with them the files of deleted blocks
    // reusable for new ones (src/store/blockstore.ts). Outside the lock: transfers write meanwhile.
    if (result.removed > 0) {
      await this.#c.blockstore.flush().catch((err: Error) => {
        this.#c.log.warn('sync after garbage collection failed', { error: err.message })
      })
    }
    return result
  }

  /** Every stored block under these roots (each shared subtree walked once). */
  async #mark(roots: CID[]): Promise<Set<string>> {
    const blocks = this.#c.blockstore
    const keep = new Set<string>()
    const stack = [...roots]
    while (stack.length > 0) {
      const cid = stack.pop() as CID
      const key = cid.toString()
      if (keep.has(key) || !(await blocks.has(cid))) continue
      keep.add(key)
      // Raw blocks have no links: checked, never read.
      if (cid.code !== raw.code) stack.push(...linksOf(cid, await blocks.getBytes(cid)))
    }
    return keep
  }
}
