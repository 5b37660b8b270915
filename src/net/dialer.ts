/** Dialling, hanging up and pinging peers by multiaddr or peer ID. */
import type { Libp2p } from 'libp2p'
import type { AbortOptions } from '../core/abort.ts'
import { mapNetError } from './errors.ts'
import type { Services } from './libp2p-options.ts'
import { isPeerId, parsePeerId, parseTarget, withTimeout } from './parse.ts'
import type { PeerView } from './peers.ts'
import type { PeerConnection } from './types.ts'

export class Dialer {
  readonly #node: () => Libp2p<Services>
  readonly #peers: PeerView
  readonly #timeoutMs: number

  constructor(node: () => Libp2p<Services>, peers: PeerView, dialTimeoutMs: number) {
    this.#node = node
    this.#peers = peers
    this.#timeoutMs = dialTimeoutMs
  }

  async connect(target: string, options: AbortOptions = {}): Promise<PeerConnection> {
    const node = this.#node()
    const dialTarget = parseTarget(target)
    try {
      const conn = await node.dial(dialTarget, withTimeout(options, this.#timeoutMs))
      return await this.#peers.describe(node.getConnections(conn.remotePeer))
    } catch (err) {
      throw mapNetError(err, `could not connect to ${target}`, options)
    }
  }

  async disconnect(peerId: string, options: AbortOptions = {}): Promise<void> {
    await this.#node().hangUp(parsePeerId(peerId), options)
  }

  /** One round trip, in milliseconds; remembered for the peer's connection view. */
  async ping(target: string, options: AbortOptions = {}): Promise<number> {
    const node = this.#node()
    const dialTarget = parseTarget(target)
    try {
      const rtt = await node.services.ping.ping(dialTarget, withTimeout(options, this.#timeoutMs))
      const id = isPeerId(dialTarget)
        ? dialTarget.toString()
        : dialTarget.getComponents().find((c) => c.name === 'p2p')?.value
      if (id !== undefined) this.#peers.recordPing(id, rtt)
      return rtt
    } catch (err) {
      throw mapNetError(err, `ping to ${target} failed`, options)
    }
  }
}
