import type { Stream } from '@libp2p/interface'
import type { AbortOptions } from '../core/abort.ts'
import type { ProtocolStream } from './types.ts'

/** Adapt a libp2p 3 message stream to Lateral's narrow ProtocolStream. */
export function toProtocolStream(stream: Stream, remotePeer: string): ProtocolStream {
  return {
    protocol: stream.protocol ?? '',
    remotePeer,
    async *[Symbol.asyncIterator]() {
      for await (const chunk of stream) {
        // A Uint8ArrayList's parts are passed on as they are: concatenating them would copy.
        if (chunk instanceof Uint8Array) yield chunk
        else yield* chunk
      }
    },
    async write(bytes: Uint8Array, options?: AbortOptions) {
      if (!stream.send(bytes)) await stream.onDrain(options)
    },
    async close(options?: AbortOptions) {
      await stream.close(options)
    },
    abort(err: Error) {
      stream.abort(err)
    },
  }
}
