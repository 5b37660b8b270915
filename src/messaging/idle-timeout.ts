/**
 * An idle deadline on an incoming byte stream: when the peer sends nothing for `ms` while the
 * reader waits for more, `onIdle` runs (it aborts the stream, which ends the read with an error).
 * The clock stops while the consumer holds a chunk, so slow local work is not counted against
 * the peer.
 */
export async function* idleTimeout(
  source: AsyncIterable<Uint8Array>,
  ms: number,
  onIdle: () => void,
): AsyncGenerator<Uint8Array> {
  let timer = setTimeout(onIdle, ms)
  try {
    for await (const chunk of source) {
      clearTimeout(timer)
      yield chunk
      timer = setTimeout(onIdle, ms)
    }
  } finally {
    clearTimeout(timer)
  }
}
