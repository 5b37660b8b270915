/**
 * Hashing the blockstore's aligned slots on worker threads (blockstore.ts, `putHashed`): a block
 * is copied once into a slot of shared memory for its direct write, and a worker hashes it there
 * while the file is written, so the event loop neither hashes it nor copies it again. SHA-256 of
 * a download or an import costs about as much as decrypting it, and the machine has more cores.
 *
 * The workers read the slots' memory directly (a shared WebAssembly memory): each job is an
 * offset and a length, each answer a digest of 32 or 64 bytes. Nothing is allocated or moved per
 * block. A worker that cannot start or dies answers nothing more; `digest` then gives undefined
 * and the caller hashes the slot itself: verification never depends on the workers. A dead worker
 * is reported (`onDeath`) and replaced at a later job, after a pause that doubles with each death
 * in a row (HASH_WORKER_RESTART_MS up to HASH_WORKER_RESTART_MAX_MS), so a worker that keeps
 * dying costs a thread start every few minutes at most.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads'
import { HASH_WORKER_RESTART_MAX_MS, HASH_WORKER_RESTART_MS } from '../core/constants.ts'

export type SlotHashAlgorithm = 'sha256' | 'sha512'

/** A WebAssembly.Memory (Node's global; the project's TypeScript libraries do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer
}
export type WasmMemoryConstructor = new (init: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory

/** The worker: hash a range of the shared memory, answer with the digest. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const memory = new Uint8Array(workerData.memory.buffer)
parentPort.on('message', ({ id, algorithm, start, length }) => {
  try {
    const digest = createHash(algorithm).update(memory.subarray(start, start + length)).digest()
    parentPort.postMessage({ id, digest: new Uint8Array(digest) })
  } catch (err) {
    parentPort.postMessage({ id, error: String(err) })
  }
})
parentPort.postMessage({ ready: true })
`

interface Reply {
  id: number
  digest?: Uint8Array
  error?: string
  ready?: true
}

class HashWorker {
  readonly #worker: Worker
  /** Jobs sent and not answered, by id. */
  readonly #jobs = new Map<number, (digest: Uint8Array | undefined) => void>()
  #ids = 0
  #dead = false
  #ready = false
  #onReady: () => void = () => {}
  /** Settles once the worker can take jobs, or has died. */
  readonly started: Promise<void>

  /** Why it died: the worker's error, or its exit code; undefined while alive or when terminated. */
  cause: Error | number | undefined
  /** When it started (ms, performance.now()). */
  readonly startedAt = performance.now()

  constructor(memory: WasmMemory, spawn: SpawnWorker, onDeath: (w: HashWorker) => void) {
    this.started = new Promise((resolve) => (this.#onReady = resolve))
    this.#worker = spawn(WORKER_SOURCE, { eval: true, workerData: { memory } })
    const die = (cause?: Error | number) => {
      if (this.#dead) return
      this.#dead = true
      this.cause = cause
      this.#onReady()
      onDeath(this)
      // Unanswered jobs are hashed by their callers.
      for (const done of this.#jobs.values()) done(undefined)
      this.#jobs.clear()
    }
    this.#worker.on('message', (reply: Reply) => {
      if (reply.ready === true) {
        this.#ready = true
        this.#worker.unref()
        this.#onReady()
        return
      }
      const done = this.#jobs.get(reply.id)
      this.#jobs.delete(reply.id)
      if (this.#jobs.size === 0) this.#worker.unref()
      done?.(reply.digest)
    })
    this.#worker.on('error', (err: Error) => die(err))
    this.#worker.on('exit', (code: number) => die(code))
    // Kept alive while it starts (someone may wait for it) and then only while it has jobs:
    // unref'd once ready (after the listeners, since adding one refs the worker again).
    this.die = die
  }

  readonly die: (cause?: Error | number) => void

  /** Whether it has started and can take jobs. */
  get ready(): boolean {
    return this.#ready && !this.#dead
  }

  /** Jobs waiting for an answer. */
  get load(): number {
    return this.#jobs.size
  }

  digest(algorithm: SlotHashAlgorithm, start: number, length: number): Promise<Uint8Array | undefined> {
    if (this.#dead) return Promise.resolve(undefined)
    const id = ++this.#ids
    return new Promise((resolve) => {
      if (this.#jobs.size === 0) this.#worker.ref()
      this.#jobs.set(id, resolve)
      this.#worker.postMessage({ id, algorithm, start, length })
    })
  }

  async terminate(): Promise<void> {
    this.die()
    await this.#worker.terminate()
  }
}

/** A worker that died other than by `close()`, as `SlotHasher`'s `onDeath` reports it. */
export interface HashWorkerDeath {
  /** The worker's uncaught error, if it threw; else its exit code. */
  error?: Error
  exitCode?: number
  /** How long it had run, ms. */
  ranMs: number
  /** When a replacement starts at the earliest (at the next job after that), ms from now. */
  restartInMs: number
}

/** Makes a worker thread (`new Worker(source, options)` unless told otherwise). */
export type SpawnWorker = (source: string, options: WorkerOptions) => Worker

export interface SlotHasherOptions {
  /** Told of each worker that dies (not of those `close()` ends). */
  onDeath?: (death: HashWorkerDeath) => void
  /** How a worker is made (tests hold on to them to end them). */
  spawn?: SpawnWorker
}

export class SlotHasher {
  readonly #memory: WasmMemory
  readonly #threads: number
  readonly #onDeath: ((death: HashWorkerDeath) => void) | undefined
  readonly #spawn: SpawnWorker
  #workers: HashWorker[] = []
  #closed = false
  /** Deaths in a row (reset by a worker that ran for HASH_WORKER_RESTART_MAX_MS): sets the pause. */
  #deaths = 0
  /** No replacement starts before this (performance.now()). */
  #restartAt = 0

  /** `memory` must be shared (its buffer a SharedArrayBuffer); `threads` workers start at the first job. */
  constructor(memory: WasmMemory, threads: number, options: SlotHasherOptions = {}) {
    this.#memory = memory
    this.#threads = Math.max(0, Math.floor(threads))
    this.#onDeath = options.onDeath
    this.#spawn = options.spawn ?? ((source, workerOptions) => new Worker(source, workerOptions))
  }

  /** Workers alive now. */
  get threads(): number {
    return this.#workers.length
  }

  /**
   * The digest of `length` bytes at `start` in the memory, from the least busy worker; undefined
   * when no worker can hash (none, closed, still starting, or it died meanwhile): the caller hashes
   * them itself, so the first blocks do not wait for a thread to start (~35 ms, more on a busy
   * machine). The bytes must not change until this settles.
   */
  digest(algorithm: SlotHashAlgorithm, start: number, length: number): Promise<Uint8Array | undefined> {
    const worker = this.#pick()
    return worker === undefined ? Promise.resolve(undefined) : worker.digest(algorithm, start, length)
  }

  /** Start the workers if they are not, and wait until each can take jobs (or died): how many can. */
  async start(): Promise<number> {
    this.#pick()
    await Promise.all(this.#workers.map((w) => w.started))
    return this.#workers.filter((w) => w.ready).length
  }

  async close(): Promise<void> {
    this.#closed = true
    const workers = this.#workers
    this.#workers = []
    await Promise.all(workers.map((w) => w.terminate().catch(() => {})))
  }

  #pick(): HashWorker | undefined {
    if (this.#closed) return undefined
    // The first job starts the workers; a later one replaces any that died, once the pause is over.
    if (this.#workers.length < this.#threads && performance.now() >= this.#restartAt) {
      while (this.#workers.length < this.#threads) {
        try {
          this.#workers.push(new HashWorker(this.#memory, this.#spawn, (dead) => this.#died(dead)))
        } catch {
          // No threads here: the caller hashes, and no block pays for trying again soon.
          this.#restartAt = performance.now() + HASH_WORKER_RESTART_MAX_MS
          break
        }
      }
    }
    let best: HashWorker | undefined
    for (const w of this.#workers) if (w.ready && (best === undefined || w.load < best.load)) best = w
    return best
  }

  #died(dead: HashWorker): void {
    this.#workers = this.#workers.filter((w) => w !== dead)
    if (this.#closed) return
    const ranMs = performance.now() - dead.startedAt
    this.#deaths = ranMs >= HASH_WORKER_RESTART_MAX_MS ? 1 : this.#deaths + 1
    const restartInMs = Math.min(HASH_WORKER_RESTART_MS * 2 ** (this.#deaths - 1), HASH_WORKER_RESTART_MAX_MS)
    this.#restartAt = performance.now() + restartInMs
    const cause = dead.cause
    this.#onDeath?.({
      ...(cause instanceof Error ? { error: cause } : cause === undefined ? {} : { exitCode: cause }),
      ranMs: Math.round(ranMs),
      restartInMs,
    })
  }
}
