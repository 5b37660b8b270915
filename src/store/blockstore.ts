/**
 * The filesystem blockstore under `<home>/blocks`: one file per block, named by its CID and
 * sharded by the CID's last two characters (`blocks/xy/<cid>`).
 *
 * Writes are atomic for the process: a block is written to `blocks/.incoming/` under a random
 * name, then renamed into place, so a killed process leaves either no block or the whole block,
 * never a file whose bytes do not match its name. Leftovers in `.incoming/` are removed at open.
 *
 * Blocks are not synced one by one (an fsync per block cost more than the rest of a download).
 * Instead, as BitTorrent clients re-check pieces, every block is listed in a journal
 * (`blocks/.unsynced`) before it is renamed into place; a checkpoint (every `checkpointBytes`,
 * at `flush()` and at `close()`) syncs the file system and empties the journal. When the machine
 * crashed before a checkpoint, the blocks in the journal may hold anything: `open()` hashes each
 * and deletes those that do not match their CID. So after any crash the store holds only blocks
 * that match their names; what a crash can cost is the blocks written since the last checkpoint.
 * Callers that promise durability (an import, a finished download) `flush()` first.
 *
 * Deleted blocks' files are recycled: `delete()` moves the file to `blocks/.spare/` and empties
 * it, and after the next checkpoint has synced that move, `put()` writes into such a file
 * instead of creating one (at most `spareFiles` are kept; the rest are unlinked). Creating a
 * file costs more than writing a MiB into it where many were deleted recently (ext4 without a
 * journal scans past every inode freed in the last 30 s), which is the pattern of a store that
 * collects garbage and fills again. A block being read (`getBytes`, `readInto`) is never
 * recycled while its reader may hold it: its file is unlinked as before, so the reader keeps its
 * bytes. `.spare/` is emptied at open.
 *
 * Blocks whose length is a multiple of 4 KiB (the 1 MiB chunks of a file) are written with
 * O_DIRECT from a page-aligned buffer, past the page cache, where the platform and file system
 * allow it (else, and for other blocks, through the page cache). Writing a download through the
 * page cache takes a page for every 4 KiB, which costs more than the write itself wherever fresh
 * pages are dear (a VM whose free memory goes back to its host: 6x here), pushes other files out
 * of the cache for bytes that are seldom read again soon, and leaves the kernel to write them
 * back later. Crash safety is as above: the checkpoint's sync covers the files' metadata.
 *
 * Whoever writes a block received from a peer must check its hash first (the swarm does);
 * the importer computes the CIDs of what it writes itself.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { createHash, randomBytes, webcrypto } from 'node:crypto'
import { constants } from 'node:fs'
import {
  access,
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { BaseBlockstore } from 'blockstore-core'
import type { Blockstore, Pair } from 'interface-blockstore'
import { CID } from 'multiformats/cid'
import {
  BLOCKSTORE_DIRECT_SLOT_BYTES,
  DEFAULT_BLOCKSTORE_CHECKPOINT_BYTES,
  DEFAULT_BLOCKSTORE_DIRECT_SLOTS,
  DEFAULT_BLOCKSTORE_HASH_THREADS,
  DEFAULT_BLOCKSTORE_SPARE_FILES,
} from '../core/constants.ts'
import { NotFoundError, StorageFullError } from '../core/errors.ts'
import {
  type HashWorkerDeath,
  type SlotHashAlgorithm,
  SlotHasher,
  type WasmMemory,
  type WasmMemoryConstructor,
} from './slot-hasher.ts'

const INCOMING = '.incoming'
const SPARE = '.spare'
const JOURNAL = '.unsynced'
/** Direct writes: lengths (and buffers) aligned to this, enough for 512-byte and 4 KiB sectors. */
const DIRECT_ALIGN = 4096
/** Smaller blocks go through the page cache: little to gain, and they are often read back soon. */
const DIRECT_MIN_BYTES = 64 * 1024
/** O_DIRECT where the platform has it (Linux; not macOS or Windows). */
const O_DIRECT: number | undefined = (constants as { O_DIRECT?: number }).O_DIRECT

export interface FsBlockstoreInit {
  /** Bytes written between two checkpoints (file system synced, journal emptied). */
  checkpointBytes?: number
  /** Emptied files of deleted blocks kept for new blocks (DEFAULT_BLOCKSTORE_SPARE_FILES; 0: none). */
  spareFiles?: number
  /** Write 4 KiB-aligned blocks with O_DIRECT where possible (default true). */
  directWrites?: boolean
  /** Direct writes under way at once (DEFAULT_BLOCKSTORE_DIRECT_SLOTS). */
  directSlots?: number
  /**
   * Worker threads that hash the blocks `putHashed` writes directly, in their slots, while they
   * are written (DEFAULT_BLOCKSTORE_HASH_THREADS); 0: on the libuv pool instead (WebCrypto, which
   * copies each block once more, but no thread of its own).
   */
  hashThreads?: number
  /** Told when a hash worker dies (it is replaced after a pause; meanwhile callers hash). */
  onHashWorkerDeath?: (death: HashWorkerDeath) => void
}

/** What `open()` found of an earlier crash. */
export interface RecheckResult {
  /** Blocks listed in the journal that were hashed again. */
  checked: number
  /** Of those, blocks deleted because their bytes did not match their CID. */
  removed: number
}

export class FsBlockstore extends BaseBlockstore implements Blocks {
  readonly #root: string
  readonly #checkpointBytes: number
  readonly #spareMax: number
  /** Names of the emptied files in `.spare/`, ready to take a new block. */
  readonly #spares: string[] = []
  /**
   * Emptied files whose move out of their shard folder is not synced yet: they take new blocks
   * only after the next checkpoint (on a file system that writes metadata out of order, a crash
   * could otherwise leave the old block's name on the new block's bytes).
   */
  readonly #pendingSpares: Array<{ name: string; shard: string }> = []
  /** Blocks being read now, by CID, with how many readers: their files are not recycled. */
  readonly #reading = new Map<string, number>()
  /** For unique file names in `.incoming/` and `.spare/` (with a per-process random prefix). */
  readonly #prefix = randomBytes(6).toString('hex')
  #names = 0
  /** Shard folders known to exist (created at most once per process). */
  readonly #shards = new Set<string>()
  /** CIDs in the journal (written since the last checkpoint, or being written). */
  #unsynced: string[] = []
  #unsyncedBytes = 0
  /** Journal lines waiting to be appended; the tail of the journal's operations. */
  #toJournal: string[] = []
  #journal: Promise<void> = Promise.resolve()
  #journalFile: FileHandle | undefined
  #checkpoint: Promise<void> | undefined
  readonly #syncer = new SyncHelper()
  /** Direct writes still tried: off when asked, without O_DIRECT, or once the file system refused one. */
  #direct: boolean
  readonly #directSlots: number
  /** The aligned buffers of direct writes, made at the first. */
  #slots: AlignedSlots | undefined
  readonly #hashThreads: number
  readonly #onHashWorkerDeath: ((death: HashWorkerDeath) => void) | undefined
  /** Hashes slots on workers: with the slots, when they are shared and threads are asked for. */
  #hasher: SlotHasher | undefined
  readonly #written = { direct: 0, cached: 0, hashedOffThread: 0 }

  constructor(root: string, init: FsBlockstoreInit = {}) {
    super()
    this.#root = root
    this.#checkpointBytes = init.checkpointBytes ?? DEFAULT_BLOCKSTORE_CHECKPOINT_BYTES
    this.#spareMax = init.spareFiles ?? DEFAULT_BLOCKSTORE_SPARE_FILES
    this.#directSlots = Math.max(1, init.directSlots ?? DEFAULT_BLOCKSTORE_DIRECT_SLOTS)
    this.#direct = (init.directWrites ?? true) && O_DIRECT !== undefined
    this.#hashThreads = Math.max(0, init.hashThreads ?? DEFAULT_BLOCKSTORE_HASH_THREADS)
    this.#onHashWorkerDeath = init.onHashWorkerDeath
  }

  /**
   * Create the folders, remove half-written leftovers of an earlier crash and re-check the
   * blocks written since its last checkpoint.
   */
  async open(): Promise<RecheckResult> {
    for (const folder of [INCOMING, SPARE]) {
      await rm(join(this.#root, folder), { recursive: true, force: true })
      await mkdir(join(this.#root, folder), { recursive: true, mode: 0o700 })
    }
    return this.#recheck()
  }

  /** Hash every block the journal lists; delete those that do not match. */
  async #recheck(): Promise<RecheckResult> {
    const path = join(this.#root, JOURNAL)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch {
      return { checked: 0, removed: 0 }
    }
    let checked = 0
    let removed = 0
    const kept: string[] = []
    for (const line of new Set(text.split('\n'))) {
      let cid: CID
      try {
        cid = CID.parse(line)
      } catch {
        continue // a torn last line, or blank
      }
      let bytes: Uint8Array
      try {
        bytes = await readFile(this.#path(cid))
      } catch {
        continue // never renamed into place
      }
      checked++
      if (digestMatches(cid, bytes)) {
        kept.push(this.#path(cid))
      } else {
        await unlink(this.#path(cid)).catch(() => {})
        removed++
      }
    }
    await syncFileSystem(this.#root, () => kept)
    await rm(path, { force: true })
    return { checked, removed }
  }

  /** Make every block written so far durable (a checkpoint). */
  async flush(): Promise<void> {
    while (this.#checkpoint !== undefined) await this.#checkpoint.catch(() => {})
    if (this.#unsynced.length === 0 && this.#pendingSpares.length === 0) return
    await this.#runCheckpoint()
  }

  /** Flush: the journal is emptied, so the next open re-checks nothing. */
  async close(): Promise<void> {
    try {
      await this.flush()
    } finally {
      this.#syncer.close()
      await this.#hasher?.close()
    }
  }

  #runCheckpoint(): Promise<void> {
    const run = (async () => {
      // Every block listed so far had its bytes written before its line: once the lines are out,
      // a sync makes all of them durable (a rename after the sync moves durable bytes).
      const upTo = this.#unsynced.length
      this.#unsyncedBytes = 0
      // Files of deleted blocks emptied so far: once their move out of the shards is durable, no
      // crash can leave a shard entry of the old block on a file that holds a new one.
      const released = this.#pendingSpares.splice(0)
      await this.#journalOp(async () => {})
      try {
        await syncFileSystem(
          this.#root,
          () => [
            ...this.#unsynced.slice(0, upTo).map((c) => this.#pathOf(c)),
            ...released.flatMap((r) => [join(this.#root, SPARE, r.name), r.shard]),
          ],
          this.#syncer,
        )
      } catch (err) {
        this.#pendingSpares.push(...released)
        throw err
      }
      this.#spares.push(...released.map((r) => r.name))
      await this.#journalOp(async () => {
        this.#unsynced = this.#unsynced.slice(upTo)
        this.#toJournal = []
        await this.#journalFile?.close()
        this.#journalFile = undefined
        const path = join(this.#root, JOURNAL)
        if (this.#unsynced.length === 0) return rm(path, { force: true })
        const tmp = `${path}.tmp`
        await writeFile(tmp, this.#unsynced.map((l) => `${l}\n`).join(''))
        await rename(tmp, path)
      })
    })()
    this.#checkpoint = run
    void run
      .finally(() => {
        if (this.#checkpoint === run) this.#checkpoint = undefined
      })
      .catch(() => {})
    return run
  }

  /** Journal file operations, one at a time in order. */
  #journalOp(op: () => Promise<void>): Promise<void> {
    const done = this.#journal.then(op)
    this.#journal = done.catch(() => {})
    return done
  }

  /** List a CID in the journal; resolves once its line is written (lines waiting go out together). */
  #note(cid: string): Promise<void> {
    this.#unsynced.push(cid)
    this.#toJournal.push(cid)
    return this.#journalOp(async () => {
      const lines = this.#toJournal
      if (lines.length === 0) return
      this.#toJournal = []
      this.#journalFile ??= await open(join(this.#root, JOURNAL), 'a', 0o600)
      await writeAll(this.#journalFile, Buffer.from(lines.map((l) => `${l}\n`).join('')), null)
    })
  }

  #path(cid: CID): string {
    return this.#pathOf(cid.toString())
  }

  #pathOf(name: string): string {
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
    // No look for an existing copy first: callers ask has() where it matters (the importer, a
    // download's walk), and a second copy renamed over the first holds the same bytes.
    const parts = value instanceof Uint8Array ? [value] : Array.isArray(value) ? (value as Uint8Array[]) : undefined
    const length = parts?.reduce((n, p) => n + p.length, 0)
    const written =
      (parts !== undefined && length !== undefined && this.#directFits(length)
        ? await this.#writeDirect(`block ${cid}`, parts, length)
        : undefined) ?? (await this.#writeCached(cid, value))
    await this.#place(cid, written.tmp, written.length)
    return cid
  }

  /**
   * Whether `putHashed` hashes a block of `length` bytes off the caller's thread now (a worker,
   * the block written directly): callers that could hash it as it arrives then leave it to the store.
   */
  hashesOffThreadFor(length: number): boolean {
    const slots = this.#slots
    return this.#directFits(length) && (slots === undefined || this.#hasher !== undefined || !slots.shared)
  }

  /**
   * Store a block named by its bytes: they are hashed with `algorithm` and kept under
   * `name(digest)`, or dropped (nothing kept, undefined returned) when that is undefined, as for a
   * received block that does not match the CID asked for. A block written directly is copied
   * once into its slot and hashed there on a worker while its file is written; others are hashed
   * first (on the libuv pool when one part of 64 KiB or more, else on this thread). Without
   * workers, a block written directly is hashed on the libuv pool from its slot. `onDigest` hears
   * the digest as soon as it is known, while the file may still be being written.
   */
  async putHashed(
    parts: Uint8Array[],
    algorithm: SlotHashAlgorithm,
    name: (digest: Uint8Array) => CID | undefined,
    onDigest?: (digest: Uint8Array) => void,
  ): Promise<CID | undefined> {
    let told = false
    const tell = (digest: Uint8Array) => {
      if (told) return
      told = true
      onDigest?.(digest)
    }
    let length = 0
    for (const part of parts) length += part.length
    if (this.#directFits(length)) {
      const written = await this.#writeDirect('a block', parts, length, algorithm, tell)
      if (written !== undefined) {
        let cid: CID | undefined
        try {
          cid = name(written.digest as Uint8Array)
          // A copy already in place stays: it may be durable where this one is not yet.
          if (cid === undefined || (await this.has(cid))) {
            await unlink(written.tmp).catch(() => {})
            return cid
          }
        } catch (err) {
          await unlink(written.tmp).catch(() => {})
          throw err
        }
        await this.#place(cid, written.tmp, written.length)
        return cid
      }
    }
    const digest = await digestOf(algorithm, parts)
    tell(digest)
    const cid = name(digest)
    if (cid !== undefined && !(await this.has(cid))) await this.put(cid, parts)
    return cid
  }

  /** Put a written file in place: listed in the journal, renamed to its CID, counted toward the next checkpoint. */
  async #place(cid: CID, tmp: string, written: number): Promise<void> {
    const path = this.#path(cid)
    const shard = join(path, '..')
    if (!this.#shards.has(shard)) {
      await mkdir(shard, { recursive: true, mode: 0o700 })
      this.#shards.add(shard)
    }
    // Listed before it is in place: a crash before the next checkpoint re-checks it.
    await this.#note(cid.toString()).catch(async (err: NodeJS.ErrnoException) => {
      await unlink(tmp).catch(() => {})
      if (err.code === 'ENOSPC' || err.code === 'EDQUOT')
        throw new StorageFullError(`no space left to journal block ${cid} in ${this.#root}`)
      throw err
    })
    await rename(tmp, path).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
      // The shard folder was removed behind our back: make it again.
      await mkdir(shard, { recursive: true, mode: 0o700 })
      await rename(tmp, path)
    })
    this.#unsyncedBytes += written
    if (this.#unsyncedBytes >= this.#checkpointBytes && this.#checkpoint === undefined) {
      this.#runCheckpoint().catch(() => {}) // retried at the next one; flush() reports failures
    }
  }

  /** The block through the page cache, whole, as its parts (in one call, never joined) or as a stream. */
  async #writeCached(
    cid: CID,
    value: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  ): Promise<{ tmp: string; length: number }> {
    const { tmp, handle } = await this.#openForWrite(0).catch((err: unknown) => {
      throw this.#writeError(`block ${cid}`, err)
    })
    let length = 0
    try {
      if (value instanceof Uint8Array) {
        await writeAll(handle, value, 0)
        length = value.length
      } else if (Array.isArray(value)) {
        length = await writevAll(handle, value as Uint8Array[])
      } else {
        for await (const chunk of value) {
          await writeAll(handle, chunk, length)
          length += chunk.length
        }
      }
    } catch (err) {
      await handle.close()
      await unlink(tmp).catch(() => {})
      throw this.#writeError(`block ${cid}`, err)
    }
    await handle.close()
    this.#written.cached++
    return { tmp, length }
  }

  #directFits(length: number): boolean {
    return (
      this.#direct &&
      length >= DIRECT_MIN_BYTES &&
      length % DIRECT_ALIGN === 0 &&
      length <= BLOCKSTORE_DIRECT_SLOT_BYTES
    )
  }

  /**
   * The block with O_DIRECT, copied into an aligned buffer first; with `algorithm`, also hashed
   * there on a worker while the file is written (on this thread when no worker can). Undefined
   * when the file system refuses direct I/O (EINVAL): nothing was written, and later blocks go
   * through the page cache. `label` names the block in errors.
   */
  async #writeDirect(
    label: string,
    parts: Uint8Array[],
    length: number,
    algorithm?: SlotHashAlgorithm,
    onDigest?: (digest: Uint8Array) => void,
  ): Promise<{ tmp: string; length: number; digest?: Uint8Array } | undefined> {
    const slots = this.#ensureSlots()
    if (slots === undefined) return undefined
    const slot = await slots.take()
    let hashing: Promise<Uint8Array> | undefined
    try {
      let at = 0
      for (const part of parts) {
        copyInto(slot, part, at)
        at += part.length
      }
      if (algorithm !== undefined) {
        hashing = this.#hashSlot(algorithm, slot, length)
        if (onDigest !== undefined) void hashing.then(onDigest, () => {})
      }
      let opened: { tmp: string; handle: FileHandle }
      try {
        opened = await this.#openForWrite(O_DIRECT as number)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw this.#writeError(label, err)
        this.#direct = false
        return undefined
      }
      const { tmp, handle } = opened
      try {
        const { bytesWritten } = await handle.write(slot, 0, length, 0)
        if (bytesWritten !== length)
          throw new StorageFullError(`only ${bytesWritten} of ${length} bytes of ${label} written in ${this.#root}`)
      } catch (err) {
        await handle.close().catch(() => {})
        await unlink(tmp).catch(() => {})
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw this.#writeError(label, err)
        this.#direct = false
        return undefined
      }
      await handle.close()
      this.#written.direct++
      return hashing === undefined ? { tmp, length } : { tmp, length, digest: await hashing }
    } finally {
      // The slot is reused only once its hash is done (whatever became of the write).
      if (hashing !== undefined) await hashing.catch(() => {})
      slots.give(slot)
    }
  }

  /** The aligned slots (and their hasher), made at the first direct write; undefined (and no more direct writes) without WebAssembly memory. */
  #ensureSlots(): AlignedSlots | undefined {
    if (this.#slots === undefined) {
      try {
        this.#slots = new AlignedSlots(BLOCKSTORE_DIRECT_SLOT_BYTES, this.#directSlots, this.#hashThreads > 0)
      } catch {
        // No WebAssembly memory here (--jitless, an address-space limit): through the page cache.
        this.#direct = false
        return undefined
      }
      if (this.#slots.shared && this.#hashThreads > 0)
        this.#hasher = new SlotHasher(
          this.#slots.memory,
          this.#hashThreads,
          this.#onHashWorkerDeath === undefined ? {} : { onDeath: this.#onHashWorkerDeath },
        )
    }
    return this.#slots
  }

  /**
   * Start the hash workers if they are not (they start with the first direct write, and hash
   * from when they are up) and wait until they can take blocks: how many can (tests, diagnostics).
   */
  async hashWorkers(): Promise<number> {
    if (!this.#direct) return 0
    this.#ensureSlots()
    return (await this.#hasher?.start()) ?? 0
  }

  /**
   * The digest of a slot's first `length` bytes: by a worker; without workers on the libuv pool
   * (WebCrypto copies the bytes there; it takes no shared memory); else on this thread.
   */
  async #hashSlot(algorithm: SlotHashAlgorithm, slot: Uint8Array, length: number): Promise<Uint8Array> {
    const bytes = slot.subarray(0, length)
    const digest =
      this.#hasher !== undefined
        ? await this.#hasher.digest(algorithm, slot.byteOffset, length)
        : this.#slots?.shared === false
          ? new Uint8Array(await webcrypto.subtle.digest(WEBCRYPTO_HASH[algorithm], bytes))
          : undefined
    if (digest === undefined) return createHash(algorithm).update(bytes).digest()
    this.#written.hashedOffThread++
    return digest
  }

  #writeError(label: string, err: unknown): unknown {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ENOSPC' || code === 'EDQUOT'
      ? new StorageFullError(`no space left for ${label} in ${this.#root}`)
      : err
  }

  /**
   * An emptied file of a deleted block if there is one (truncated again: it stays empty), else a
   * new file; write-only, with `extra` flags (O_DIRECT). A spare that cannot be opened so is kept.
   */
  async #openForWrite(extra: number): Promise<{ tmp: string; handle: FileHandle }> {
    const spare = this.#spares.pop()
    if (spare !== undefined) {
      const tmp = join(this.#root, SPARE, spare)
      try {
        return { tmp, handle: await open(tmp, constants.O_WRONLY | constants.O_TRUNC | extra) }
      } catch (err) {
        // `.spare/` removed behind our back: a new file instead.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.#spares.push(spare)
          throw err
        }
      }
    }
    const tmp = join(this.#root, INCOMING, this.#name())
    try {
      return { tmp, handle: await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | extra, 0o600) }
    } catch (err) {
      // A file system that refuses O_DIRECT may have made the file before refusing to open it.
      if (extra !== 0) await unlink(tmp).catch(() => {})
      throw err
    }
  }

  override async *get(cid: CID): AsyncGenerator<Uint8Array> {
    yield await this.getBytes(cid)
  }

  /** The whole block. NotFoundError when this node does not have it. */
  async getBytes(cid: CID): Promise<Uint8Array> {
    const done = this.#startReading(cid)
    try {
      const bytes = await readFile(this.#path(cid))
      // A view of the Buffer, not a copy (readFile gives blocks their own ArrayBuffer).
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new NotFoundError(`block ${cid} is not in this node's store`)
      throw err
    } finally {
      done()
    }
  }

  /**
   * Read the block into `target` and return its length; undefined, reading nothing, when it is
   * longer than `target`. NotFoundError when this node does not have it.
   */
  async readInto(cid: CID, target: Uint8Array): Promise<number | undefined> {
    const done = this.#startReading(cid)
    let handle: FileHandle
    try {
      handle = await open(this.#path(cid), 'r')
    } catch (err) {
      done()
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new NotFoundError(`block ${cid} is not in this node's store`)
      throw err
    }
    try {
      const { size } = await handle.stat()
      if (size > target.length) return undefined
      let at = 0
      while (at < size) {
        const { bytesRead } = await handle.read(target, at, size - at, at)
        if (bytesRead === 0) throw new Error(`block ${cid} ended after ${at} of ${size} bytes`)
        at += bytesRead
      }
      return size
    } finally {
      try {
        await handle.close()
      } finally {
        done()
      }
    }
  }

  /** Size of a stored block in bytes, without reading it. */
  async size(cid: CID): Promise<number> {
    return (await stat(this.#path(cid))).size
  }

  override async delete(cid: CID): Promise<void> {
    const path = this.#path(cid)
    if (await this.#recycle(path, cid.toString())) return
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err
    })
  }

  /**
   * Move a deleted block's file to `.spare/` and empty it, for a new block after the next
   * checkpoint. False when it stayed in place (no room, a reader, no such file or no `.spare/`):
   * the caller unlinks it.
   */
  async #recycle(path: string, name: string): Promise<boolean> {
    const room = () => this.#spares.length + this.#pendingSpares.length < this.#spareMax
    if (!room() || this.#reading.has(name)) return false
    const spare = this.#name()
    const moved = join(this.#root, SPARE, spare)
    try {
      await rename(path, moved)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
      throw err
    }
    // A reader that began while the file moved may hold it: it keeps the bytes, unrecycled.
    if (!this.#reading.has(name) && room()) {
      try {
        await truncate(moved, 0)
        this.#pendingSpares.push({ name: spare, shard: dirname(path) })
        return true
      } catch {
        // not emptied: unlinked below
      }
    }
    await unlink(moved).catch(() => {})
    return true
  }

  /**
   * Blocks written so far with O_DIRECT and through the page cache, of those hashed off the event
   * loop (putHashed: by a worker or on the libuv pool), and whether direct writes are still tried
   * (tests, diagnostics).
   */
  get writes(): { direct: number; cached: number; hashedOffThread: number; directOn: boolean } {
    return { ...this.#written, directOn: this.#direct }
  }

  /** Emptied files of deleted blocks: ready for new blocks, and waiting for the next checkpoint (tests, diagnostics). */
  get spareFiles(): { ready: number; pending: number } {
    return { ready: this.#spares.length, pending: this.#pendingSpares.length }
  }

  /** Note a reader of `cid` (synchronously, before its file is opened); call the result when done. */
  #startReading(cid: CID): () => void {
    const name = cid.toString()
    this.#reading.set(name, (this.#reading.get(name) ?? 0) + 1)
    return () => {
      const left = (this.#reading.get(name) ?? 1) - 1
      if (left === 0) this.#reading.delete(name)
      else this.#reading.set(name, left)
    }
  }

  #name(): string {
    return `${this.#prefix}-${(this.#names++).toString(36)}`
  }

  /** Every stored CID (the shard folders' file names; the journal and incoming folder are not shards). */
  async *cids(): AsyncGenerator<CID> {
    let shards: string[]
    try {
      shards = (await readdir(this.#root, { withFileTypes: true }))
        .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
        .map((entry) => entry.name)
    } catch {
      return
    }
    for (const shard of shards) {
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

const WEBCRYPTO_HASH = { sha256: 'SHA-256', sha512: 'SHA-512' } as const

/** The digest of a block given as parts: on the libuv pool for one part of 64 KiB or more (WebCrypto copies it there), else here. */
export async function digestOf(algorithm: SlotHashAlgorithm, parts: Uint8Array[]): Promise<Uint8Array> {
  const only = parts.length === 1 ? parts[0] : undefined
  if (only !== undefined && only.length >= 64 * 1024) {
    return new Uint8Array(await webcrypto.subtle.digest(WEBCRYPTO_HASH[algorithm], only))
  }
  const hash = createHash(algorithm)
  for (const part of parts) hash.update(part)
  return hash.digest()
}

/**
 * Whether bytes hash to the digest in their CID (SHA-256 or SHA-512; identity CIDs hold their
 * bytes). False for any other hash: such a block cannot be vouched for.
 */
function digestMatches(cid: CID, bytes: Uint8Array): boolean {
  const code = cid.multihash.code
  const digest =
    code === 0x12
      ? createHash('sha256').update(bytes).digest()
      : code === 0x13
        ? createHash('sha512').update(bytes).digest()
        : code === 0x00
          ? bytes
          : undefined
  return digest !== undefined && Buffer.compare(digest, cid.multihash.digest) === 0
}

/**
 * Page-aligned buffers for direct writes: one WebAssembly memory (mapped by the engine, so its
 * base is page-aligned, which no Buffer promises) cut into equal slots. A taker waits while all
 * are in use. Only the slots ever used take memory. The memory is shared when asked and the engine
 * allows it (then `shared`), so that hash workers can read the slots (slot-hasher.ts).
 */
/**
 * Copy `part` into `slot` at `at` with memcpy. V8's `set` into shared memory (the slots are when
 * hash workers read them) stores with relaxed atomics, a byte at a time when the source is not
 * aligned as the target is; a received block's data starts wherever its frame put it, so it
 * mostly is not: 1 MiB from offset 3 copies at 1.9 GiB/s so, at 41 GiB/s through Buffer's
 * `fill` (one copy when the value is as long as the range), which is memcpy whatever the memory.
 */
function copyInto(slot: Buffer, part: Uint8Array, at: number): void {
  if (part.length > 0) slot.fill(part, at, at + part.length)
}

class AlignedSlots {
  readonly memory: WasmMemory
  readonly shared: boolean
  readonly #free: Buffer[] = []
  readonly #waiting: Array<(slot: Buffer) => void> = []

  /** `shared`: for hash workers, where the engine allows it. */
  constructor(slotBytes: number, count: number, shared: boolean) {
    if (slotBytes % DIRECT_ALIGN !== 0) throw new RangeError(`slots of ${slotBytes} bytes are not aligned`)
    // Absent under --jitless.
    const Memory = (globalThis as { WebAssembly?: { Memory: WasmMemoryConstructor } }).WebAssembly?.Memory
    if (Memory === undefined) throw new Error('no WebAssembly here')
    const pages = Math.ceil((slotBytes * count) / 65_536)
    let memory: WasmMemory | undefined
    if (shared) {
      try {
        memory = new Memory({ initial: pages, maximum: pages, shared: true })
      } catch {
        // no shared memory here: plain
      }
    }
    this.shared = memory !== undefined
    memory ??= new Memory({ initial: pages })
    this.memory = memory
    for (let i = count - 1; i >= 0; i--) this.#free.push(Buffer.from(memory.buffer, i * slotBytes, slotBytes))
  }

  take(): Promise<Buffer> {
    const slot = this.#free.pop()
    return slot !== undefined ? Promise.resolve(slot) : new Promise((resolve) => this.#waiting.push(resolve))
  }

  give(slot: Buffer): void {
    const next = this.#waiting.shift()
    if (next !== undefined) next(slot)
    else this.#free.push(slot)
  }
}

/**
 * Flush everything written to the file system holding `dir` to the disk: `syncfs` through
 * coreutils' `sync -f`, else `sync` of everything; where neither exists, an fsync of each file
 * in `files` (and of their folders). The `sync` runs through `helper` when one is given.
 */
async function syncFileSystem(dir: string, files: () => string[], helper?: SyncHelper): Promise<void> {
  if (helper !== undefined && (await helper.sync(dir))) return
  const run = (args: string[]) =>
    new Promise<boolean>((resolve) => execFile('sync', args, (err) => resolve(err === null)))
  if ((await run(['-f', dir])) || (await run([]))) return
  const folders = new Set<string>()
  for (const path of files()) {
    folders.add(dirname(path))
    await fsyncPath(path)
  }
  for (const folder of folders) await fsyncPath(folder)
}

/**
 * One long-lived `sh` that runs `sync -f DIR` (else `sync`) for each line it reads and answers
 * 0 or 1. Starting a process forks the whole daemon (page tables of a few hundred MiB): about
 * 15 ms of the event loop each time, at every checkpoint of a download. The shell is started
 * once, by the first checkpoint, and ends with its stdin (at close, or when the daemon dies).
 * `sync` answers false when the helper is unusable; the caller then falls back.
 */
class SyncHelper {
  #child: ChildProcess | undefined
  #broken = false
  #buffered = ''
  readonly #waiting: Array<(ok: boolean) => void> = []

  sync(dir: string): Promise<boolean> {
    if (this.#broken || dir.includes('\n') || process.platform === 'win32') return Promise.resolve(false)
    const child = this.#start()
    if (child === undefined) return Promise.resolve(false)
    return new Promise<boolean>((resolve) => {
      // Referenced while an answer is awaited, so a short-lived process waits for it.
      if (this.#waiting.length === 0) refOf(child.stdout)?.ref?.()
      this.#waiting.push(resolve)
      child.stdin?.write(`${dir}\n`)
    })
  }

  close(): void {
    const child = this.#child
    this.#child = undefined
    child?.stdin?.end()
  }

  #start(): ChildProcess | undefined {
    if (this.#child !== undefined) return this.#child
    let child: ChildProcess
    try {
      child = spawn(
        'sh',
        [
          '-c',
          'while IFS= read -r d; do if sync -f "$d" 2>/dev/null || sync 2>/dev/null; then echo 0; else echo 1; fi; done',
        ],
        { stdio: ['pipe', 'pipe', 'ignore'] },
      )
    } catch {
      this.#broken = true
      return undefined
    }
    const fail = () => {
      if (this.#child === child) {
        this.#child = undefined
        this.#broken = true // it died while in use: fall back for good
      }
      for (const resolve of this.#waiting.splice(0)) resolve(false)
    }
    child.on('error', fail)
    child.on('exit', fail)
    child.stdin?.on('error', fail)
    child.stdout?.setEncoding('utf8')
    child.stdout?.on('data', (text: string) => {
      this.#buffered += text
      let at = this.#buffered.indexOf('\n')
      while (at >= 0) {
        const answer = this.#buffered.slice(0, at)
        this.#buffered = this.#buffered.slice(at + 1)
        this.#waiting.shift()?.(answer === '0')
        at = this.#buffered.indexOf('\n')
      }
      if (this.#waiting.length === 0) refOf(child.stdout)?.unref?.()
    })
    // Never what keeps the daemon alive.
    child.unref()
    refOf(child.stdin)?.unref?.()
    refOf(child.stdout)?.unref?.()
    this.#child = child
    return child
  }
}

/**
 * Write all of `data` at `position` (null: where the file is; the end, for a file opened to
 * append). A write to a file that runs out of room stops short and says so only by its count
 * (the file system's error comes at the next call): without this loop a block on a full disk
 * was kept cut short (1,032,192 of 1,200,000 bytes on a 1 MiB tmpfs) and counted as stored.
 */
async function writeAll(handle: FileHandle, data: Uint8Array, position: number | null): Promise<void> {
  let at = 0
  while (at < data.length) {
    const { bytesWritten } = await handle.write(data, at, data.length - at, position === null ? null : position + at)
    if (bytesWritten <= 0) throw Object.assign(new Error('the file system took no more bytes'), { code: 'ENOSPC' })
    at += bytesWritten
  }
}

/** `parts` one after another from the start of the file, in one call unless it stops short; their length. */
async function writevAll(handle: FileHandle, parts: Uint8Array[]): Promise<number> {
  let length = 0
  for (const part of parts) length += part.length
  const { bytesWritten } = await handle.writev(parts, 0)
  let at = 0
  for (const part of parts) {
    const from = Math.max(0, bytesWritten - at)
    if (from < part.length) await writeAll(handle, part.subarray(from), at + from)
    at += part.length
  }
  return length
}

/** A child's pipe as the socket it is (ref/unref). */
const refOf = (pipe: unknown) => pipe as { ref?: () => void; unref?: () => void } | null | undefined

async function fsyncPath(path: string): Promise<void> {
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
  } catch {
    return // deleted since (gc), or a folder that cannot be opened here
  }
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** What Lateral needs of a blockstore: the importer's interface plus whole-block reads and listing. */
export interface Blocks extends Blockstore {
  has(cid: CID): Promise<boolean>
  /** Store a block whole or as the parts it arrived in. */
  put(cid: CID, value: Uint8Array | Uint8Array[]): Promise<CID>
  /** Store a block named by its bytes, hashed as it is written (FsBlockstore.putHashed). */
  putHashed?(
    parts: Uint8Array[],
    algorithm: SlotHashAlgorithm,
    name: (digest: Uint8Array) => CID | undefined,
    onDigest?: (digest: Uint8Array) => void,
  ): Promise<CID | undefined>
  /** Whether `putHashed` hashes a block of `length` bytes off the event loop now. */
  hashesOffThreadFor?(length: number): boolean
  /** Make every block written so far durable. */
  flush(): Promise<void>
  /** Flush, then end what the store runs beside the event loop (hash workers, the sync helper). */
  close(): Promise<void>
  getBytes(cid: CID): Promise<Uint8Array>
  /** Read a block into `target`: its length, or undefined (nothing read) when it is longer. */
  readInto(cid: CID, target: Uint8Array): Promise<number | undefined>
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

  async readInto(cid: CID, target: Uint8Array): Promise<number | undefined> {
    const bytes = await this.getBytes(cid)
    if (bytes.length > target.length) return undefined
    target.set(bytes)
    return bytes.length
  }

  async size(cid: CID): Promise<number> {
    return (await this.getBytes(cid)).length
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}

  override async delete(cid: CID): Promise<void> {
    this.#blocks.delete(cid.toString())
  }

  async *cids(): AsyncGenerator<CID> {
    for (const { cid } of [...this.#blocks.values()]) yield cid
  }
}
