/**
 * Verifying received blocks on worker threads, so the event loop that reads the peers' streams
 * (TLS, Yamux, block frames) does not also hash every byte: SHA-256 of a download costs about as
 * much as decrypting it, and the machine has a second core.
 *
 * Each worker owns a ring of shared memory (`ringBytes`). A block's parts (views of the chunks
 * the stream delivered) are copied into the ring, the worker hashes them there and answers with
 * the digest; the parts themselves are what is stored. Nothing is allocated per block: moving a
 * fresh buffer to a thread per block (postMessage with a transfer) cost more than the hashing.
 * When the ring is full the block waits for the oldest one to be done; a block larger than the
 * ring is hashed on the caller's thread. So this holds at most `ringBytes` per worker, whatever
 * the download.
 *
 * If a worker cannot be started or dies, blocks are hashed on the caller's thread instead:
 * verification never depends on the workers.
 */
import { createHash } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import type { CID } from 'multiformats/cid'
import { DEFAULT_HASH_THREAD_RING_BYTES } from '../core/constants.ts'

const SHA2_256 = 0x12
const SHA2_512 = 0x13

/** The worker: hash a range of the shared ring, answer with the digest. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { createHash } = require('node:crypto')
const ring = new Uint8Array(workerData.ring)
parentPort.on('message', ({ id, algorithm, start, length }) => {
  try {
    const digest = createHash(algorithm).update(ring.subarray(start, start + length)).digest()
    parentPort.postMessage({ id, digest: new Uint8Array(digest) })
  } catch (err) {
    parentPort.postMessage({ id, error: String(err) })
  }
})
`

interface Reply {
  id: number
  digest?: Uint8Array
  error?: string
}

interface Job {
  id: number
  start: number
  end: number
  resolve: (digest: Uint8Array | undefined) => void
  reject: (err: Error) => void
}

class HashWorker {
  readonly #worker: Worker
  readonly #ring: Uint8Array
  /** Jobs sent, oldest first (the worker answers in order): their ranges are in use. */
  readonly #jobs: Job[] = []
  readonly #onDeath: (w: HashWorker) => void
  #head = 0
  #ids = 0
  #dead = false

  constructor(ringBytes: number, onDeath: (w: HashWorker) => void) {
    this.#onDeath = onDeath
    const shared = new SharedArrayBuffer(ringBytes)
    this.#ring = new Uint8Array(shared)
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ring: shared } })
    this.#worker.unref()
    this.#worker.on('message', (reply: Reply) => {
      const job = this.#jobs[0]
      if (job === undefined || job.id !== reply.id) return this.#die(new Error('hash worker answered out of order'))
      this.#jobs.shift()
      job.resolve(reply.digest)
    })
    this.#worker.on('error', (err) => this.#die(err))
    this.#worker.on('exit', (code) => this.#die(new Error(`hash worker exited with code ${code}`)))
  }

  get dead(): boolean {
    return this.#dead
  }

  get capacity(): number {
    return this.#ring.length
  }

  /**
   * The digest of the parts, hashed by the worker; undefined if it could not hash them. Waits
   * while the ring has no room. Rejects if the worker dies.
   */
  async hash(algorithm: string, parts: Uint8Array[], length: number): Promise<Uint8Array | undefined> {
    let start = this.#alloc(length)
    while (start === undefined) {
      const oldest = this.#jobs[0]
      if (oldest === undefined || this.#dead) throw new Error('hash worker is gone')
      await new Promise<void>((resolve) => {
        const { resolve: done, reject } = oldest
        oldest.resolve = (d) => {
          done(d)
          resolve()
        }
        oldest.reject = (e) => {
          reject(e)
          resolve()
        }
      })
      if (this.#dead) throw new Error('hash worker is gone')
      start = this.#alloc(length)
    }
    let at = start
    for (const part of parts) {
      this.#ring.set(part, at)
      at += part.length
    }
    this.#head = start + length
    const id = ++this.#ids
    return new Promise<Uint8Array | undefined>((resolve, reject) => {
      this.#jobs.push({ id, start, end: start + length, resolve, reject })
      this.#worker.postMessage({ id, algorithm, start, length })
    })
  }

  async terminate(): Promise<void> {
    this.#die(new Error('hash worker closed'))
    await this.#worker.terminate()
  }

  /** Where `n` bytes fit in the ring now, or undefined. */
  #alloc(n: number): number | undefined {
    const size = this.#ring.length
    const oldest = this.#jobs[0]
    if (oldest === undefined) return n <= size ? 0 : undefined
    const tail = oldest.start
    if (this.#head > tail || (this.#head === tail && this.#jobs.length === 0)) {
      if (this.#head + n <= size) return this.#head
      return n < tail ? 0 : undefined
    }
    return this.#head + n < tail ? this.#head : undefined
  }

  #die(err: Error): void {
    if (this.#dead) return
    this.#dead = true
    this.#onDeath(this)
    for (const job of this.#jobs.splice(0)) job.reject(err)
  }
}

/** What a download session needs to have blocks hashed off its thread. */
export interface BlockHasher {
  /** Whether this hasher takes blocks with `cid`'s hash (SHA-256 and SHA-512, when it has threads). */
  takes(cid: CID): boolean
  /** Whether the block made of `parts` (`length` bytes) hashes to `cid`'s digest. */
  verify(cid: CID, parts: Uint8Array[], length: number): Promise<boolean>
}

export interface HashThreadsInit {
  /** Workers to hash on (0: on the caller's thread). Started at the first block. */
  threads: number
  /** Shared memory per worker, bytes. */
  ringBytes?: number
}

export class HashThreads implements BlockHasher {
  readonly #size: number
  readonly #ringBytes: number
  #workers: HashWorker[] = []
  #next = 0
  #started = false
  #closed = false

  constructor(init: HashThreadsInit) {
    this.#size = Math.max(0, Math.floor(init.threads))
    this.#ringBytes = init.ringBytes ?? DEFAULT_HASH_THREAD_RING_BYTES
  }

  takes(cid: CID): boolean {
    const code = cid.multihash.code
    return this.#size > 0 && (code === SHA2_256 || code === SHA2_512)
  }

  async verify(cid: CID, parts: Uint8Array[], length: number): Promise<boolean> {
    const algorithm = cid.multihash.code === SHA2_512 ? 'sha512' : 'sha256'
    const worker = this.#pick()
    let digest: Uint8Array | undefined
    if (worker !== undefined && length <= worker.capacity) {
      // A worker that dies with the block leaves it to be hashed here.
      digest = await worker.hash(algorithm, parts, length).catch(() => undefined)
    }
    if (digest === undefined) {
      const hash = createHash(algorithm)
      for (const part of parts) hash.update(part)
      digest = hash.digest()
    }
    const expected = cid.multihash.digest
    return digest.length === expected.length && Buffer.compare(digest, expected) === 0
  }

  async close(): Promise<void> {
    this.#closed = true
    const workers = this.#workers
    this.#workers = []
    await Promise.all(workers.map((w) => w.terminate().catch(() => {})))
  }

  #pick(): HashWorker | undefined {
    if (this.#closed || this.#size === 0) return undefined
    if (!this.#started) {
      this.#started = true
      for (let i = 0; i < this.#size; i++) {
        try {
          this.#workers.push(
            new HashWorker(this.#ringBytes, (dead) => (this.#workers = this.#workers.filter((w) => w !== dead))),
          )
        } catch {
          break // no threads here: hash inline
        }
      }
    }
    if (this.#workers.length === 0) return undefined
    this.#next = (this.#next + 1) % this.#workers.length
    return this.#workers[this.#next]
  }
}
