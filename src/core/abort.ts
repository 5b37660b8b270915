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

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason)
      return
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
