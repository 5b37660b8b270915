/**
 * The filesystem blockstore under `<home>/blocks`: one file per block, named by its CID and
 * sharded by the CID's last two characters (`blocks/xy/<cid>`).
 *
 * Writes are atomic: a block is written to `blocks/.incoming/` under a random name, synced,
 * then renamed into place, so a crash leaves either no block or the whole block, never a file
 * whose bytes do not match its name. Leftovers in `.incoming/` are removed at open.
 * Whoever writes a block received from a peer must check its hash first (the swarm does);
 * the importer computes the CIDs of what it writes itself.
 */
import { randomBytes } from 'node:crypto'
import { access, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { BaseBlockstore } from 'blockstore-core'
import type { Blockstore, Pair } from 'interface-blockstore'
import { CID } from 'multiformats/cid'
import { NotFoundError, StorageFullError } from '../core/errors.ts'

const INCOMING = '.incoming'

export class FsBlockstore extends BaseBlockstore implements Blocks {
  readonly #root: string
  /** Shard folders known to exist (created at most once per process). */
  readonly #shards = new Set<string>()

  constructor(root: string) {
    super()
    this.#root = root
  }

  /** Create the folders and remove half-written leftovers of an earlier crash. */
  async open(): Promise<void> {
    await rm(join(this.#root, INCOMING), { recursive: true, force: true })
    await mkdir(join(this.#root, INCOMING), { recursive: true, mode: 0o700 })
  }

  #path(cid: CID): string {
    const name = cid.toString()
    return join(this.#root, name.slice(-3, -1), name)
  }

  override async has(cid: CID): Promise<boolean> {
    // access() answers without building a Stats object: cheaper on the hot path of a download.
    return access(this.#path(cid)).then(
      () => true,
      () => false,
    )
  }

  override async put(cid: CID, value: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<CID> {
    const path = this.#path(cid)
    if (await this.has(cid)) return cid
    const tmp = join(this.#root, INCOMING, randomBytes(12).toString('hex'))
    const handle = await open(tmp, 'wx', 0o600)
    try {
      if (value instanceof Uint8Array) {
        await handle.write(value)
      } else {
        for await (const chunk of value) await handle.write(chunk)
      }
      await handle.sync()
    } catch (err) {
      await handle.close()
      await unlink(tmp).catch(() => {})
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOSPC' || code === 'EDQUOT')
        throw new StorageFullError(`no space left for block ${cid} in ${this.#root}`)
      throw err
    }
    await handle.close()
    const shard = join(path, '..')
    if (!this.#shards.has(shard)) {
      await mkdir(shard, { recursive: true, mode: 0o700 })
      this.#shards.add(shard)
    }
    await rename(tmp, path).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
      // The shard folder was removed behind our back: make it again.
      await mkdir(shard, { recursive: true, mode: 0o700 })
      await rename(tmp, path)
    })
    return cid
  }

  override async *get(cid: CID): AsyncGenerator<Uint8Array> {
    yield await this.getBytes(cid)
  }

  /** The whole block. NotFoundError when this node does not have it. */
  async getBytes(cid: CID): Promise<Uint8Array> {
    try {
      const bytes = await readFile(this.#path(cid))
      // A view of the Buffer, not a copy (readFile gives blocks their own ArrayBuffer).
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new NotFoundError(`block ${cid} is not in this node's store`)
      throw err
    }
  }

  /** Size of a stored block in bytes, without reading it. */
  async size(cid: CID): Promise<number> {
    return (await stat(this.#path(cid))).size
  }

  override async delete(cid: CID): Promise<void> {
    await unlink(this.#path(cid)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
  }

  /** Every stored CID (the shard folders' file names). */
  async *cids(): AsyncGenerator<CID> {
    let shards: string[]
    try {
      shards = await readdir(this.#root)
    } catch {
      return
    }
    for (const shard of shards) {
      if (shard === INCOMING) continue
      for (const name of await readdir(join(this.#root, shard))) {
        try {
          yield CID.parse(name)
        } catch {
          // Not a block file: leave it alone.
        }
      }
    }
  }

  override async *getAll(): AsyncGenerator<Pair> {
    for await (const cid of this.cids()) {
      const bytes = await this.getBytes(cid)
      yield {
        cid,
        bytes: (async function* () {
          yield bytes
        })(),
      }
    }
  }
}

/** What Lateral needs of a blockstore: the importer's interface plus whole-block reads and listing. */
export interface Blocks extends Blockstore {
  has(cid: CID): Promise<boolean>
  put(cid: CID, value: Uint8Array): Promise<CID>
  getBytes(cid: CID): Promise<Uint8Array>
  /** Size of a stored block in bytes. */
  size(cid: CID): Promise<number>
  cids(): AsyncGenerator<CID>
}

/** Blocks in memory, for nodes without a home (tests, embedding). */
export class MemoryBlocks extends BaseBlockstore implements Blocks {
  readonly #blocks = new Map<string, { cid: CID; bytes: Uint8Array }>()

  override async has(cid: CID): Promise<boolean> {
    return this.#blocks.has(cid.toString())
  }

  override async put(cid: CID, value: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<CID> {
    if (value instanceof Uint8Array) {
      this.#blocks.set(cid.toString(), { cid, bytes: value })
      return cid
    }
    const parts: Uint8Array[] = []
    for await (const chunk of value) parts.push(chunk)
    this.#blocks.set(cid.toString(), { cid, bytes: new Uint8Array(Buffer.concat(parts)) })
    return cid
  }

  override async *get(cid: CID): AsyncGenerator<Uint8Array> {
    yield await this.getBytes(cid)
  }

  async getBytes(cid: CID): Promise<Uint8Array> {
    const entry = this.#blocks.get(cid.toString())
    if (entry === undefined) throw new NotFoundError(`block ${cid} is not in this node's store`)
    return entry.bytes
  }

  async size(cid: CID): Promise<number> {
    return (await this.getBytes(cid)).length
  }

  override async delete(cid: CID): Promise<void> {
    this.#blocks.delete(cid.toString())
  }

  async *cids(): AsyncGenerator<CID> {
    for (const { cid } of [...this.#blocks.values()]) yield cid
  }
}
