/**
 * Our address as other peers see it. Identify tells each peer what address our connection came
 * from; libp2p drops observed TCP addresses (they cannot be dialled back without SO_REUSEPORT,
 * libp2p #2620), but they still tell what the router in front of us does: compared with the
 * connection's local port, they say whether there is a NAT and whether it keeps our ports
 * (endpoint-independent mapping, a home router) or changes them (a hard, symmetric NAT).
 */
import { readFile } from 'node:fs/promises'
import { networkInterfaces } from 'node:os'
import type { Connection, IdentifyResult } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { DEFAULT_OBSERVED_ADDRESSES } from '../core/constants.ts'

export interface Observation {
  /** What the peer saw, e.g. /ip4/7.0.0.1/tcp/40312. */
  address: string
  by: string
  /** Our local TCP port of that connection, when the kernel's socket table tells it. */
  localPort?: number
  at: number
}

export class ObservedAddresses {
  readonly #max: number
  #list: Observation[] = []
  #events: EventTarget | undefined

  /** Keeps the newest `max` observations (default DEFAULT_OBSERVED_ADDRESSES). */
  constructor(max = DEFAULT_OBSERVED_ADDRESSES) {
    this.#max = max
  }

  /** Listen on the node's event bus (before it starts, so the first peers are seen too). */
  listen(events: EventTarget): void {
    this.#events = events
    this.#list = []
    events.addEventListener('peer:identify', this.#onIdentify as (evt: Event) => void)
  }

  detach(): void {
    this.#events?.removeEventListener('peer:identify', this.#onIdentify as (evt: Event) => void)
    this.#events = undefined
  }

  list(): Observation[] {
    return [...this.#list]
  }

  readonly #onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const { observedAddr, connection, peerId } = evt.detail
    if (observedAddr === undefined || connection.limits !== undefined || !connection.direct) return
    // Peers send the address with our /p2p/ suffix: keep the transport part.
    const address = observedAddr.toString().replace(/\/p2p\/.*$/, '')
    if (!/^\/ip[46]\/[^/]+\/tcp\/\d+$/.test(address)) return
    void localPortOf(connection).then((localPort) => {
      if (this.#events === undefined) return
      const entry: Observation = { address, by: peerId.toString(), at: Date.now() }
      if (localPort !== undefined) entry.localPort = localPort
      this.#list = [entry, ...this.#list.filter((o) => o.by !== entry.by)].slice(0, this.#max)
    })
  }
}

/** What the observations say about the router in front of us. */
export function natMapping(observations: Observation[]): {
  mapping: 'none' | 'port-preserving' | 'port-changing' | 'unknown'
  reasons: string[]
} {
  const own = ownAddresses()
  const withPorts = observations.filter((o) => o.localPort !== undefined)
  if (observations.length === 0) return { mapping: 'unknown', reasons: ['no peer has told us our address yet'] }
  const seen = observations.map((o) => hostOf(o.address))
  if (seen.some((h) => own.has(h))) {
    return { mapping: 'none', reasons: [`peers see us at our own interface address ${seen.find((h) => own.has(h))}`] }
  }
  if (withPorts.length === 0) {
    return { mapping: 'unknown', reasons: [`peers see us at ${seen[0]}, not one of our addresses, so there is a NAT`] }
  }
  const changed = withPorts.filter((o) => portOf(o.address) !== o.localPort)
  if (changed.length > 0) {
    const o = changed[0] as Observation
    return {
      mapping: 'port-changing',
      reasons: [
        `our local port ${o.localPort} became ${portOf(o.address)} at ${hostOf(o.address)} (seen by ${short(o.by)}): the NAT picks new ports per connection`,
      ],
    }
  }
  return {
    mapping: 'port-preserving',
    reasons: [
      `${withPorts.length} peer(s) saw our connections from ${hostOf((withPorts[0] as Observation).address)} with our own local ports: the NAT keeps ports (endpoint-independent mapping)`,
    ],
  }
}

function short(peerId: string): string {
  return `${peerId.slice(0, 8)}…${peerId.slice(-4)}`
}

function hostOf(address: string): string {
  return address.split('/')[2] ?? ''
}

function portOf(address: string): number {
  return Number(address.split('/')[4])
}

function ownAddresses(): Set<string> {
  const out = new Set<string>()
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address)
  return out
}

/** The local port of a direct TCP connection, from the kernel's socket table (Linux only). */
async function localPortOf(connection: Connection): Promise<number | undefined> {
  const parts = connection.remoteAddr.toString().split('/')
  if (parts[1] !== 'ip4' || parts[3] !== 'tcp') return undefined
  const remote = `${hexIp4(parts[2] as string)}:${Number(parts[4]).toString(16).toUpperCase().padStart(4, '0')}`
  try {
    const table = await readFile('/proc/net/tcp', 'utf8')
    for (const line of table.split('\n').slice(1)) {
      const [, local, rem, state] = line.trim().split(/\s+/)
      // 01 = ESTABLISHED
      if (rem === remote && state === '01' && local !== undefined) return Number.parseInt(local.split(':')[1] ?? '', 16)
    }
  } catch {
    // not Linux, or no /proc: the mapping stays unknown
  }
  return undefined
}

/** /proc/net/tcp writes an IPv4 address as 8 hex digits in host (little-endian) order. */
function hexIp4(ip: string): string {
  return ip
    .split('.')
    .map((n) => Number(n).toString(16).toUpperCase().padStart(2, '0'))
    .reverse()
    .join('')
}

/** The part of libp2p's components that `ignoreRelayedObservations` wraps. */
export interface ObservedAddressComponents {
  addressManager: { addObservedAddr(addr: Multiaddr): void }
}

/**
 * Identify reports a relayed connection's remote address as what the peer observed of us: a
 * `/p2p-circuit` address through a relay that holds no reservation for us. libp2p keeps it as an
 * observed address to confirm, so AutoNAT v2 asks every server to dial it back, and each request
 * costs 30-100 KB of dial data (its IP is not the connection's) and a relay dial that fails with
 * NO_RESERVATION. Our relay addresses come from our reservations, never from observations.
 */
export function ignoreRelayedObservations(components: ObservedAddressComponents): void {
  const manager = components.addressManager
  const add = manager.addObservedAddr.bind(manager)
  manager.addObservedAddr = (addr) => {
    if (!addr.toString().includes('/p2p-circuit')) add(addr)
  }
}
