/** Runs async tasks one after another: what the keeper uses so a quota check and its reservation, or a sweep and a drop, never interleave. */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve()

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task)
    this.#tail = result.catch(() => {})
    return result
  }
}
