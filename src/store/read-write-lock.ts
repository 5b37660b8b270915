/**
 * A read-write lock for one process: any number of readers at once, or one writer. Waiters are
 * admitted in arrival order, so a waiting writer is not starved by a stream of short readers
 * (readers that come after it wait behind it).
 *
 * Garbage collection takes the write lock; every block write of a transfer takes a read lock
 * around the write alone (as Helia runs GC), so gc never sees a store that changes under it.
 * Written here rather than taken from `mortice`: that library also coordinates cluster workers
 * through process-wide named locks, which two nodes in one process would then share.
 */

export type Release = () => void

interface Waiter {
  write: boolean
  grant: () => void
}

export class ReadWriteLock {
  #readers = 0
  #writing = false
  readonly #queue: Waiter[] = []

  /** Readers holding the lock now. */
  get readers(): number {
    return this.#readers
  }

  /** Whether a writer holds the lock now. */
  get writing(): boolean {
    return this.#writing
  }

  /** Callers waiting for the lock. */
  get waiting(): number {
    return this.#queue.length
  }

  readLock(signal?: AbortSignal): Promise<Release> {
    return this.#acquire(false, signal)
  }

  writeLock(signal?: AbortSignal): Promise<Release> {
    return this.#acquire(true, signal)
  }

  /** Run `fn` under a read lock. */
  async read<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.readLock(signal)
    try {
      return await fn()
    } finally {
      release()
    }
  }

  /** Run `fn` under the write lock. */
  async write<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.writeLock(signal)
    try {
      return await fn()
    } finally {
      release()
    }
  }

  #acquire(write: boolean, signal?: AbortSignal): Promise<Release> {
    signal?.throwIfAborted()
    if (this.#queue.length === 0 && this.#free(write)) {
      this.#take(write)
      return Promise.resolve(this.#releaser(write))
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        write,
        grant: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve(this.#releaser(write))
        },
      }
      const onAbort = () => {
        const i = this.#queue.indexOf(waiter)
        if (i >= 0) this.#queue.splice(i, 1)
        reject(signal?.reason)
        // A writer leaving the head of the queue may let readers behind it in.
        this.#admit()
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#queue.push(waiter)
    })
  }

  #free(write: boolean): boolean {
    return write ? !this.#writing && this.#readers === 0 : !this.#writing
  }

  #take(write: boolean): void {
    if (write) this.#writing = true
    else this.#readers++
  }

  #releaser(write: boolean): Release {
    let released = false
    return () => {
      if (released) return
      released = true
      if (write) this.#writing = false
      else this.#readers--
      this.#admit()
    }
  }

  /** Admit waiters from the head of the queue while the lock allows them. */
  #admit(): void {
    for (;;) {
      const head = this.#queue[0]
      if (head === undefined || !this.#free(head.write)) return
      this.#queue.shift()
      this.#take(head.write)
      head.grant()
      if (head.write) return
    }
  }
}
