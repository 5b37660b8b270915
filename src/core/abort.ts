/** Options every long operation takes (Helia's convention). */
export interface AbortOptions {
  signal?: AbortSignal
}

export interface ProgressOptions<E> extends AbortOptions {
  onProgress?: (event: E) => void
}
