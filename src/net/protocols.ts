/** Lateral's own wire protocols on libp2p: answering them (handle) and opening streams (dial). */
import type { Connection } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'
import { BULK_RELAY_RESERVE_BYTES, BULK_UNIT_BYTES } from '../core/constants.ts'
import { PeerUnreachableError } from '../core/errors.ts'
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
          await handler(toProtocolStream(stream, connection.remotePeer.toString(), limits, connection))
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
    const { signal, bulk, ...limits } = options
    try {
      if (bulk === true) return await this.#openBulk(peerId, protocol, limits, signal)
      const node = this.#node()
      const peer = parsePeerId(peerId)
      // On a connection the peer already has. libp2p's dial reuses only connections without
      // limits, so to a peer reached through a relay (every relayed connection has a duration
      // limit) each stream dialled a new circuit, which the relay then refused past its
      // per-peer share.
      const existing = pickConnection(node.getConnections(peer))
      if (existing !== undefined) {
        try {
          const stream = await existing.newStream(protocol, {
            runOnLimitedConnection: true,
            ...(signal === undefined ? {} : { signal }),
          })
          return toProtocolStream(stream, peerId, limits, existing)
        } catch (err) {
          // The peer does not speak it, or we gave up: dialling again would not change that.
          if (signal?.aborted === true || (err as Error).name === 'UnsupportedProtocolError') throw err
        }
      }
      const stream = await node.dialProtocol(peer, protocol, {
        runOnLimitedConnection: true,
        ...(signal === undefined ? {} : { signal }),
      })
      return toProtocolStream(stream, peerId, limits)
    } catch (err) {
      throw mapNetError(err, `could not open ${protocol} to ${peerId}`, options)
    }
  }

  /**
   * A stream for bulk data: on a connection without a data limit if the peer has one (direct
   * first), else on the relayed connection with the most bytes left, if more than the reserve.
   */
  async #openBulk(
    peerId: string,
    protocol: string,
    limits: Omit<OpenStreamOptions, 'signal' | 'bulk'>,
    signal: AbortSignal | undefined,
  ): Promise<ProtocolStream> {
    const node = this.#node()
    const peer = parsePeerId(peerId)
    let conns = node.getConnections(peer).filter((c) => c.status === 'open')
    if (conns.length === 0) conns = [await node.dial(peer, signal === undefined ? {} : { signal })]
    const connection = pickBulkConnection(conns)
    if (connection === undefined) {
      const left = Math.max(...conns.map((c) => Number(c.limits?.bytes ?? 0n)))
      throw new PeerUnreachableError(
        `only relayed connections to ${peerId}, with ${left} bytes left of their relays' data limits: ` +
          'not enough for bulk data (a direct connection is needed)',
      )
    }
    const stream = await connection.newStream(protocol, {
      runOnLimitedConnection: true,
      ...(signal === undefined ? {} : { signal }),
    })
    return toProtocolStream(stream, peerId, limits, connection)
  }
}

/**
 * The connection a stream should use: an open direct one first, then a relayed one without a
 * data limit, then the relayed one with the most bytes left.
 */
export function pickConnection<C extends Pick<Connection, 'limits' | 'remoteAddr' | 'status'>>(
  conns: C[],
): C | undefined {
  const open = conns.filter((c) => c.status === 'open')
  return pickBulkConnection(open) ?? mostLeft(open)
}

function mostLeft<C extends Pick<Connection, 'limits'>>(conns: C[]): C | undefined {
  let most: C | undefined
  for (const c of conns) if (most === undefined || (c.limits?.bytes ?? 0n) > (most.limits?.bytes ?? 0n)) most = c
  return most
}

/**
 * The connection bulk data should use: one without a data limit (direct before relayed), else
 * the limited one with the most bytes left if that holds the reserve and one unit of bulk data
 * (BULK_UNIT_BYTES, the largest block) besides.
 */
export function pickBulkConnection<C extends Pick<Connection, 'limits' | 'remoteAddr'>>(conns: C[]): C | undefined {
  const relayed = (c: C) => c.remoteAddr.toString().includes('/p2p-circuit')
  const unlimited = conns.filter((c) => c.limits?.bytes === undefined)
  const best = unlimited.find((c) => !relayed(c)) ?? unlimited[0]
  if (best !== undefined) return best
  const most = mostLeft(conns)
  return most !== undefined && Number(most.limits?.bytes ?? 0n) > BULK_RELAY_RESERVE_BYTES + BULK_UNIT_BYTES
    ? most
    : undefined
}
