/** Lateral's own wire protocols on libp2p: answering them (handle) and opening streams (dial). */
import type { Libp2p } from 'libp2p'
import { errorFields, type Logger } from '../core/logger.ts'
import { mapNetError } from './errors.ts'
import type { Services } from './libp2p-options.ts'
import { parsePeerId } from './parse.ts'
import { toProtocolStream } from './stream.ts'
import type { HandleOptions, OpenStreamOptions, ProtocolHandler, ProtocolStream } from './types.ts'

export class Protocols {
  readonly #node: () => Libp2p<Services>
  readonly #log: Logger

  constructor(node: () => Libp2p<Services>, log: Logger) {
    this.#node = node
    this.#log = log
  }

  /** Protocols this node answers. */
  list(): string[] {
    return [...this.#node().getProtocols()].sort()
  }

  /** Answer `protocol`; a handler that throws has its stream reset (and is logged). */
  async handle(protocol: string, handler: ProtocolHandler, options: HandleOptions = {}): Promise<void> {
    const { maxInboundStreams, ...limits } = options
    await this.#node().handle(
      protocol,
      async (stream, connection) => {
        try {
          await handler(toProtocolStream(stream, connection.remotePeer.toString(), limits))
        } catch (err) {
          this.#log.warn('protocol handler failed', { protocol, ...errorFields(err) })
          stream.abort(err instanceof Error ? err : new Error(String(err)))
        }
      },
      // Relayed connections carry Lateral's protocols too: a peer behind two NATs may have no
      // other way in. The relay's own limits (time, bytes) bound what runs over it.
      { runOnLimitedConnection: true, ...(maxInboundStreams === undefined ? {} : { maxInboundStreams }) },
    )
  }

  async unhandle(protocol: string): Promise<void> {
    await this.#node().unhandle(protocol)
  }

  async openStream(peerId: string, protocol: string, options: OpenStreamOptions = {}): Promise<ProtocolStream> {
    const { signal, ...limits } = options
    try {
      const stream = await this.#node().dialProtocol(parsePeerId(peerId), protocol, {
        runOnLimitedConnection: true,
        ...(signal === undefined ? {} : { signal }),
      })
      return toProtocolStream(stream, peerId, limits)
    } catch (err) {
      throw mapNetError(err, `could not open ${protocol} to ${peerId}`, options)
    }
  }
}
