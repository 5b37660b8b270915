/** Run async tasks one at a time, in the order given (a chain's appends must not interleave). */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve()

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task)
    // A failed task must not block the ones behind it.
    this.#tail = result.catch(() => {})
    return result
  }
}
