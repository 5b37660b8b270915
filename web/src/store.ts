/** A value views can watch: the one piece of shared state machinery the page needs. */
import { useEffect, useState } from 'preact/hooks'

export class Store<T> {
  #value: T
  readonly #subscribers = new Set<(value: T) => void>()

  constructor(value: T) {
    this.#value = value
  }

  get value(): T {
    return this.#value
  }

  set(value: T): void {
    this.#value = value
    for (const s of this.#subscribers) s(value)
  }

  subscribe(fn: (value: T) => void): () => void {
    this.#subscribers.add(fn)
    return () => this.#subscribers.delete(fn)
  }
}

export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.value)
  useEffect(() => {
    setValue(store.value)
    return store.subscribe(setValue)
  }, [store])
  return value
}
