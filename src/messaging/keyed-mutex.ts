/**
 * One lock per key (a recipient, a sender): tasks under the same key run one at a time, in the
 * order they asked; different keys do not wait for each other. Entries go when their last task
 * ends, so the map holds only keys with work in flight.
 */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<void>>()

  /** Run `task` once every earlier task under `key` has settled; resolves with its result. */
  async run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve()
    let release!: () => void
    const tail = new Promise<void>((resolve) => {
      release = resolve
    })
    const mine = previous.then(() => tail)
    this.#tails.set(key, mine)
    try {
      await previous
      return await task()
    } finally {
      release()
      if (this.#tails.get(key) === mine) this.#tails.delete(key)
    }
  }

  /** Keys with a task running or waiting. */
  get size(): number {
    return this.#tails.size
  }
}
