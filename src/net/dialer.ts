/** Dialling, hanging up and pinging peers by multiaddr or peer ID. */
import { multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'
import { type AbortOptions, sleep } from '../core/abort.ts'
import { isConnectionReset, mapNetError } from './errors.ts'
import type { Services } from './libp2p-options.ts'
import { RELAY_HOP_PROTOCOL } from './nat-services.ts'
import { isPeerId, parsePeerId, parseTarget, withTimeout } from './parse.ts'
import type { PeerView } from './peers.ts'
import type { PeerConnection } from './types.ts'

/** Waits before dialling again after the peer's host reset the TCP connection (see Dialer.connect), ms. */
const CONNECT_RETRY_DELAYS_MS = [1_000, 2_000]

export class Dialer {
  readonly #node: () => Libp2p<Services>
  readonly #peers: PeerView
  readonly #timeoutMs: number
  readonly #relayAttempts: number

  constructor(node: () => Libp2p<Services>, peers: PeerView, dialTimeoutMs: number, relayAttempts: number) {
    this.#node = node
    this.#peers = peers
    this.#timeoutMs = dialTimeoutMs
    this.#relayAttempts = relayAttempts
  }

  async connect(target: string, options: AbortOptions = {}): Promise<PeerConnection> {
    const node = this.#node()
    const dialTarget = parseTarget(target)
    try {
      const conn = await this.#dialRetryingResets(node, dialTarget, options)
      return await this.#peers.describe(node.getConnections(conn.remotePeer))
    } catch (err) {
      if (isPeerId(dialTarget) && options.signal?.aborted !== true) {
        const conn = await this.#throughRelays(target, options)
        if (conn !== undefined) return conn
      }
      throw mapNetError(err, `could not connect to ${target}`, options)
    }
  }

  /**
   * Dial, and again after CONNECT_RETRY_DELAYS_MS when the peer's host reset the TCP
   * connection. A host resets a burst of connections from one address (libp2p's per-host inbound
   * limit, 5 a second): our own DHT, dialling stale peer IDs recorded at that host's address,
   * can use up the allowance just before the dial a user asked for (8 of 20 benchmark runs
   * between two public hosts failed so, with `ECONNRESET`). A person would try again.
   */
  async #dialRetryingResets(node: Libp2p<Services>, target: ReturnType<typeof parseTarget>, options: AbortOptions) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await node.dial(target, withTimeout(options, this.#timeoutMs))
      } catch (err) {
        const delay = CONNECT_RETRY_DELAYS_MS[attempt]
        if (delay === undefined || !isConnectionReset(err) || options.signal?.aborted === true) throw err
        await sleep(delay, options.signal)
      }
    }
  }

  /**
   * A peer dialled by ID whose known addresses failed (a NATed peer's DHT record may predate its
   * relay reservation): try the relays we know, connected ones first; peers that share a relay
   * meet through it.
   */
  async #throughRelays(target: string, options: AbortOptions): Promise<PeerConnection | undefined> {
    const node = this.#node()
    const connected = new Set(node.getConnections().map((c) => c.remotePeer.toString()))
    const relays = (await node.peerStore.all({ filters: [(p) => p.protocols.includes(RELAY_HOP_PROTOCOL)] }))
      .map((p) => p.id.toString())
      .filter((id) => id !== target)
      .sort((a, b) => Number(connected.has(b)) - Number(connected.has(a)))
      .slice(0, this.#relayAttempts)
    for (const relay of relays) {
      try {
        const conn = await node.dial(
          multiaddr(`/p2p/${relay}/p2p-circuit/p2p/${target}`),
          withTimeout(options, this.#timeoutMs),
        )
        return await this.#peers.describe(node.getConnections(conn.remotePeer))
      } catch {
        // that relay holds no reservation for the peer: the next one may
      }
    }
    return undefined
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
