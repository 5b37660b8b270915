/** Options every long operation takes (Helia's convention). */
export interface AbortOptions {
  signal?: AbortSignal
}

export interface ProgressOptions<E> extends AbortOptions {
  onProgress?: (event: E) => void
}

/**
 * `promise`, or a rejection once `signal` aborts first: with `error()` when given, else the
 * signal's reason. The listener is removed however it ends.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, error?: () => unknown): Promise<T> {
  if (signal === undefined) return promise
  const reason = () => (error === undefined ? signal.reason : error())
  if (signal.aborted) return Promise.reject(reason())
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason())
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err)
      },
    )
  })
}
