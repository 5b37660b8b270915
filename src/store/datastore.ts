/**
 * The node's one structured store: LevelDB under `<home>/datastore`. libp2p's peer store and
 * DHT records live here under their own prefixes, so a restarted node remembers its peers.
 *
 * LevelDB loses acknowledged writes after a failed one (measured on a full tmpfs): a write that
 * fails half-way leaves a torn record in the write-ahead log, the log writer carries on as if
 * it were whole, and at the next open the recovery drops everything after the tear, though
 * each of those writes returned success. So after any failed write this store accepts no write
 * until the log has been rotated: it flushes the memtable (which holds exactly the
 * acknowledged writes) to a table and starts a fresh log, and only then writes. While the disk
 * has less than {@link ROTATE_MIN_FREE} free, writes fail with StorageFullError and touch
 * nothing. Reads are never affected.
 */
import { mkdir, statfs } from 'node:fs/promises'
import { LevelDatastore } from 'datastore-level'
import type { Batch, Datastore, Key } from 'interface-datastore'
import type { AbortOptions } from '../core/abort.ts'
import { DaemonRunningError, StorageFullError } from '../core/errors.ts'

export type { Datastore }

export interface OpenedDatastore {
  datastore: Datastore
  close(): Promise<void>
}

/**
 * Open (creating if needed) the LevelDB datastore at `path`. LevelDB holds an exclusive lock on
 * its folder: a second process on the same home gets DaemonRunningError, not a stack trace.
 */
export async function openDatastore(path: string): Promise<OpenedDatastore> {
  await mkdir(path, { recursive: true, mode: 0o700 })
  const store = new GuardedLevelDatastore(path)
  try {
    await store.open()
  } catch (err) {
    if (isLockError(err)) {
      throw new DaemonRunningError(`another Lateral process is using ${path} (LevelDB lock is held)`)
    }
    throw err
  }
  let closed = false
  return {
    datastore: store,
    async close() {
      if (closed) return
      closed = true
      await store.close()
    },
  }
}

function isLockError(err: unknown): boolean {
  for (let e: unknown = err; e != null; e = (e as { cause?: unknown }).cause) {
    const { code, message } = e as { code?: unknown; message?: unknown }
    if (code === 'LEVEL_LOCKED' || (typeof message === 'string' && /lock/i.test(message))) return true
  }
  return false
}

/** Free space needed to rotate the log: the memtable (LevelDB's 4 MiB write buffer) plus room. */
export const ROTATE_MIN_FREE = 16 * 1024 * 1024

/** LevelDatastore that never acknowledges a write after a torn log record (see the top). */
class GuardedLevelDatastore extends LevelDatastore {
  readonly #path: string
  #torn = false
  #rotating: Promise<void> | undefined

  constructor(path: string) {
    super(path)
    this.#path = path
  }

  override async put(key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    return this.#write(() => super.put(key, value, options), options)
  }

  override async delete(key: Key, options?: AbortOptions): Promise<void> {
    return this.#write(() => super.delete(key, options), options)
  }

  override batch(): Batch {
    const batch = super.batch()
    return {
      put: (key, value) => batch.put(key, value),
      delete: (key) => batch.delete(key),
      commit: (options) => this.#write(async () => batch.commit(options), options),
    }
  }

  async #write<T>(write: () => Promise<T>, options: AbortOptions | undefined): Promise<T> {
    if (this.#torn) {
      this.#rotating ??= this.#rotate().finally(() => {
        this.#rotating = undefined
      })
      await this.#rotating
    }
    try {
      return await write()
    } catch (err) {
      // An abort is the caller's; anything else may have left a torn record in the log.
      if (options?.signal?.aborted !== true) this.#torn = true
      if (/no space left|ENOSPC|quota exceeded/i.test(String(err))) {
        throw new StorageFullError(`no space left to write to the datastore at ${this.#path}`, { cause: err })
      }
      throw err
    }
  }

  async #rotate(): Promise<void> {
    if (!this.#torn) return
    const fs = await statfs(this.#path)
    const free = fs.bavail * fs.bsize
    if (free < ROTATE_MIN_FREE) {
      throw new StorageFullError(
        `the datastore at ${this.#path} refuses writes until ${ROTATE_MIN_FREE / 1048576} MiB are free ` +
          `(${Math.floor(free / 1048576)} MiB now): a write failed, and its log must be rotated first`,
      )
    }
    // compactRange flushes the memtable to a table and switches to a new log whatever the range;
    // a range that holds no key keeps it from rewriting any table.
    // (`level` types the browser build; on Node it is classic-level, which has compactRange.)
    await (this.db as unknown as { compactRange(start: string, end: string): Promise<void> }).compactRange(
      '\u0000',
      '\u0000',
    )
    this.#torn = false
  }
}
