/**
 * The relay server's door: whether this node serves as a relay now, and fair shares per peer.
 *
 * - `relay.server: 'auto'` (the default) serves only while an address of ours is confirmed
 *   public (AutoNAT, UPnP or `--announce`) and the machine is not running on battery: a laptop
 *   behind a NAT never relays, a server with a public address does. `true` always serves (where
 *   the relay service runs), `false` never. A loopback-only node has no relay service at all.
 * - Per peer: libp2p's relay server has only global caps (reservations, and one reservation per
 *   peer ID). Here a peer may hold at most `maxCircuitsPerPeer` hop streams at once (each relayed
 *   circuit keeps one open while it runs), and peers connected from one IP address at most
 *   `maxReservationsPerIp` reservations together, so one host with many peer IDs cannot take the
 *   relay's whole capacity. A refused request is reset.
 *
 * It wraps the hop protocol's handler that libp2p's relay server registers, and registers it
 * only while serving (identify then tells peers whether we relay).
 */
import { readdirSync, readFileSync } from 'node:fs'
import type { Connection, Stream } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'
import { DEFAULT_RELAY_MAX_CIRCUITS_PER_PEER, DEFAULT_RELAY_MAX_RESERVATIONS_PER_IP } from '../core/constants.ts'
import type { Logger } from '../core/logger.ts'
import { internalsOf } from './internals.ts'
import { RELAY_HOP_PROTOCOL } from './nat-services.ts'
import { hasConfirmedPublicAddress } from './reachability.ts'

type Handler = (stream: Stream, connection: Connection) => void | Promise<void>

interface RegistrarLike {
  getHandler(protocol: string): { handler: Handler; options: Record<string, unknown> }
  handle(protocol: string, handler: Handler, options?: Record<string, unknown>): Promise<void>
  unhandle(protocol: string): Promise<void>
}

export interface RelayGateInit {
  mode: boolean | 'auto'
  maxCircuitsPerPeer?: number
  maxReservationsPerIp?: number
  /** Whether the machine runs on battery now (default: Linux's /sys/class/power_supply). */
  onBattery?: () => boolean
}

export class RelayGate {
  readonly #init: RelayGateInit
  readonly #log: Logger
  readonly #maxCircuits: number
  readonly #maxPerIp: number
  #node: Libp2p | undefined
  #registrar: RegistrarLike | undefined
  #inner: { handler: Handler; options: Record<string, unknown> } | undefined
  #serving = false
  readonly #open = new Map<string, number>()
  refused = 0

  constructor(init: RelayGateInit, log: Logger) {
    this.#init = init
    this.#log = log
    this.#maxCircuits = init.maxCircuitsPerPeer ?? DEFAULT_RELAY_MAX_CIRCUITS_PER_PEER
    this.#maxPerIp = init.maxReservationsPerIp ?? DEFAULT_RELAY_MAX_RESERVATIONS_PER_IP
  }

  get serving(): boolean {
    return this.#serving
  }

  /** The started node, whose relay service registered the hop protocol. */
  async attach(node: Libp2p): Promise<void> {
    const relay = (node.services as { relay?: unknown }).relay
    if (relay === undefined) return
    this.#node = node
    this.#registrar = (node as unknown as { components: { registrar: RegistrarLike } }).components.registrar
    this.#inner = this.#registrar.getHandler(RELAY_HOP_PROTOCOL)
    await this.#registrar.unhandle(RELAY_HOP_PROTOCOL)
    node.addEventListener('self:peer:update', this.#onUpdate)
    node.addEventListener('peer:disconnect', this.#onDisconnect)
    await this.update()
  }

  detach(): void {
    this.#node?.removeEventListener('self:peer:update', this.#onUpdate)
    this.#node?.removeEventListener('peer:disconnect', this.#onDisconnect)
    this.#node = undefined
  }

  readonly #onUpdate = (): void => {
    void this.update()
  }

  /**
   * A reservation is worth nothing once its peer is gone (the relay reaches a reserved peer only
   * over its connection), but libp2p's server keeps it until its TTL (2 h): 15 peers that came
   * and went filled the relay for two hours. It is dropped as the peer disconnects.
   */
  readonly #onDisconnect = (evt: CustomEvent<{ toString(): string }>): void => {
    const reservations = (this.#node?.services as { relay?: { reservations?: Map<unknown, unknown> } } | undefined)
      ?.relay?.reservations
    if (reservations === undefined) return
    const peer = evt.detail.toString()
    for (const key of reservations.keys()) {
      if (String(key) === peer) reservations.delete(key)
    }
  }

  /** Serve or stop serving as the rule says now. */
  async update(): Promise<void> {
    const node = this.#node
    const registrar = this.#registrar
    if (node === undefined || registrar === undefined || this.#inner === undefined) return
    const mode = this.#init.mode
    const want =
      mode === true ||
      (mode === 'auto' &&
        hasConfirmedPublicAddress(internalsOf(node).addressManager.getAddressesWithMetadata()) &&
        !(this.#init.onBattery ?? onBattery)())
    if (want === this.#serving) return
    this.#serving = want
    if (want) {
      await registrar.handle(RELAY_HOP_PROTOCOL, this.#handle, this.#inner.options)
      this.#log.info('serving as a relay', { mode: String(mode) })
    } else {
      await registrar.unhandle(RELAY_HOP_PROTOCOL)
      this.#log.info('not serving as a relay', { mode: String(mode) })
    }
  }

  readonly #handle: Handler = (stream, connection) => {
    const peer = connection.remotePeer.toString()
    const open = this.#open.get(peer) ?? 0
    if (open >= this.#maxCircuits || this.#overIpShare(connection)) {
      this.refused++
      stream.abort(new Error('relay: over this peer’s share'))
      return
    }
    this.#open.set(peer, open + 1)
    stream.addEventListener(
      'close',
      () => {
        const n = (this.#open.get(peer) ?? 1) - 1
        if (n <= 0) this.#open.delete(peer)
        else this.#open.set(peer, n)
      },
      { once: true },
    )
    return this.#inner?.handler(stream, connection)
  }

  /** Whether peers from this connection's IP already hold their share of reservations (a peer with one of its own may renew it). */
  #overIpShare(connection: Connection): boolean {
    const node = this.#node
    const reservations = (node?.services as { relay?: { reservations?: Map<unknown, unknown> } } | undefined)?.relay
      ?.reservations
    if (node === undefined || reservations === undefined) return false
    const ip = ipOf(connection)
    if (ip === undefined) return false
    let held = 0
    for (const key of reservations.keys()) {
      const id = String(key)
      if (id === connection.remotePeer.toString()) return false
      if (node.getConnections().some((c) => c.remotePeer.toString() === id && ipOf(c) === ip)) held++
    }
    return held >= this.#maxPerIp
  }
}

function ipOf(connection: Connection): string | undefined {
  return /^\/ip[46]\/([^/]+)\//.exec(connection.remoteAddr.toString())?.[1]
}

/** On Linux: a battery that is discharging. Elsewhere (or unreadable): false. */
export function onBattery(): boolean {
  const dir = '/sys/class/power_supply'
  try {
    for (const name of readdirSync(dir)) {
      const type = readFileSync(`${dir}/${name}/type`, 'utf8').trim()
      if (type !== 'Battery') continue
      const status = readFileSync(`${dir}/${name}/status`, 'utf8').trim()
      if (status === 'Discharging') return true
    }
  } catch {
    return false
  }
  return false
}
