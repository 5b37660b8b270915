/**
 * In-memory byte streams for pairing tests: two connected ends, each labelled with the peer ID
 * "the transport authenticated" for the other end (a test may lie there, to play a transport
 * whose authentication an attacker broke), plus a record of what each end wrote.
 */
import type { PairingStream } from '../../src/identity/pairing/index.ts'

class Pipe {
  #chunks: Uint8Array[] = []
  #waiting: Array<() => void> = []
  #ended = false
  #error: Error | undefined

  push(chunk: Uint8Array): void {
    if (this.#ended) throw this.#error ?? new Error('write after close')
    this.#chunks.push(chunk)
    this.#wake()
  }

  end(error?: Error): void {
    if (this.#ended) return
    this.#ended = true
    this.#error = error
    this.#wake()
  }

  #wake(): void {
    for (const w of this.#waiting.splice(0)) w()
  }

  async *read(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = this.#chunks.shift()
      if (chunk !== undefined) {
        yield chunk
        continue
      }
      if (this.#ended) {
        if (this.#error !== undefined) throw this.#error
        return
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve))
    }
  }
}

export interface TestStream extends PairingStream {
  /** Every chunk this end wrote, in order. */
  readonly written: Uint8Array[]
  readonly closed: boolean
}

/**
 * Two connected ends: `a` is held by the peer `aPeer` and sees `bPeer` as its remote; `b` the
 * other way round. `label` overrides what each end reports as its remote peer.
 */
export function duplexPair(
  aPeer: string,
  bPeer: string,
  label: { aSees?: string; bSees?: string } = {},
): [TestStream, TestStream] {
  const toB = new Pipe()
  const toA = new Pipe()
  const end = (remotePeer: string, inbound: Pipe, outbound: Pipe): TestStream => {
    const written: Uint8Array[] = []
    let closed = false
    return {
      remotePeer,
      written,
      get closed() {
        return closed
      },
      [Symbol.asyncIterator]: () => inbound.read()[Symbol.asyncIterator](),
      async write(bytes) {
        written.push(bytes)
        outbound.push(bytes)
      },
      async close() {
        closed = true
        outbound.end()
      },
      abort(err) {
        closed = true
        outbound.end(err)
        inbound.end(err)
      },
    }
  }
  return [end(label.aSees ?? bPeer, toA, toB), end(label.bSees ?? aPeer, toB, toA)]
}
