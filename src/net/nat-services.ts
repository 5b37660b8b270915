/**
 * The libp2p parts that take a node across NATs: the circuit relay v2 transport (dial and be
 * dialled through relays) and, as services, the relay server (when this node offers relaying),
 * AutoNAT v2 (peers dial our addresses back and confirm or refute them), DCUtR (a relayed
 * connection is upgraded to a direct one) and UPnP port mapping on the home router.
 */
import { autoNATv2 } from '@libp2p/autonat-v2'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { dcutr } from '@libp2p/dcutr'
import { type UPnPNAT, uPnPNAT } from '@libp2p/upnp-nat'
import {
  DEFAULT_AUTONAT_TIMEOUT_MS,
  DEFAULT_DCUTR_TIMEOUT_MS,
  DEFAULT_RELAY_DATA_LIMIT_BYTES,
  DEFAULT_RELAY_DURATION_LIMIT_MS,
  DEFAULT_RELAY_MAX_RESERVATIONS,
  DEFAULT_RELAY_RESERVATION_TTL_MS,
} from '../core/constants.ts'
import type { Logger } from '../core/logger.ts'
import type { TopologyReplay } from './late-topologies.ts'
import { type PunchComponents, TcpPunch } from './tcp-punch.ts'
import type { NetInit, RelayServerInit } from './types.ts'

/** The relay server protocol: a peer that answers it can hold reservations for others. */
export const RELAY_HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'
/** AutoNAT v2's request protocol: its topology hears of the peers that can dial our addresses back. */
export const AUTONAT_DIAL_REQUEST_PROTOCOL = '/libp2p/autonat/2/dial-request'

/** The part of libp2p's components that `verifyNewMappings` wraps. */
export interface MappingComponents {
  addressManager: {
    addPublicAddressMapping(
      internalIp: string,
      internalPort: number,
      externalIp: string,
      externalPort?: number,
      protocol?: 'tcp' | 'udp',
    ): void
  }
}

/**
 * AutoNAT v2 asks a peer to dial our addresses back only when a connection to that peer opens.
 * A UPnP mapping is made seconds after start, once the bootstrap peers are connected, so on a
 * network with no newcomers its address was never checked, never announced, and nobody dialled
 * it: in the NAT lab a hard-NAT peer stayed relayed to a mapped one (2 benchmark runs of 2).
 * After each mapping the AutoNAT topology is told again of the peers connected now.
 */
export function verifyNewMappings(
  components: MappingComponents,
  topologies: Pick<TopologyReplay, 'replay'>,
  log?: Logger,
): void {
  const manager = components.addressManager
  const add = manager.addPublicAddressMapping.bind(manager)
  manager.addPublicAddressMapping = (...args) => {
    add(...args)
    topologies.replay(AUTONAT_DIAL_REQUEST_PROTOCOL).catch((err: unknown) => {
      log?.debug('AutoNAT not asked about a new mapping', { err: String(err) })
    })
  }
}

export type NatServices = {
  punch?: TcpPunch
  autoNAT?: unknown
  dcutr?: unknown
  upnp?: UPnPNAT
  relay?: unknown
}

export function relayTransport() {
  return circuitRelayTransport()
}

/** The relay server's limits as libp2p options; a data limit of 0 relays without limits. */
export function relayServerOptions(init: RelayServerInit = {}) {
  const dataLimit = init.dataLimitBytes ?? DEFAULT_RELAY_DATA_LIMIT_BYTES
  return {
    reservations: {
      maxReservations: init.maxReservations ?? DEFAULT_RELAY_MAX_RESERVATIONS,
      reservationTtl: init.reservationTtlMs ?? DEFAULT_RELAY_RESERVATION_TTL_MS,
      applyDefaultLimit: dataLimit > 0,
      defaultDurationLimit: init.durationLimitMs ?? DEFAULT_RELAY_DURATION_LIMIT_MS,
      defaultDataLimit: BigInt(dataLimit),
    },
  }
}

/** Services for crossing NATs. UPnP and AutoNAT need real IP transports, not the memory one. */
export function natServices(init: NetInit) {
  const ip = init.transport !== 'memory'
  return {
    // AutoNAT only ever checks addresses that could be public, and DCUtR only upgrades relayed
    // connections: neither has work on a loopback-only node. (Measured on loopback: with DCUtR
    // on, of three daemons bootstrapped from one, the last often left the bootstrap peer out of
    // its DHT routing table and never met the second, 2 runs in 3, 0 in 3 without; not explained.)
    ...(reachableBeyondHost(init) && init.autonat !== false
      ? { autoNAT: autoNATv2({ timeout: init.autonatTimeoutMs ?? DEFAULT_AUTONAT_TIMEOUT_MS }) }
      : {}),
    ...(reachableBeyondHost(init)
      ? { dcutr: dcutr({ timeout: init.dcutrTimeoutMs ?? DEFAULT_DCUTR_TIMEOUT_MS }) }
      : {}),
    // TCP hole punching between NATed peers (DCUtR cannot punch TCP on Node): tcp-punch.ts.
    ...(reachableBeyondHost(init) && init.punch?.enabled !== false
      ? { punch: (components: PunchComponents) => new TcpPunch(components, init.punch) }
      : {}),
    // A gateway is searched for (SSDP multicast) only where a mapping could help: a listen
    // address on a non-loopback IPv4 interface. Without AutoNAT a mapping is trusted as made.
    ...(ip && init.upnp !== false && init.listen.some(mappable)
      ? { upnp: uPnPNAT({ autoConfirmAddress: init.autonat === false }) }
      : {}),
    // 'auto' (the default) may serve once a public address is confirmed: never on loopback alone.
    // Whether it serves now is relay-gate.ts's call.
    ...(init.relayServer?.enabled === true || (init.relayServer?.enabled === 'auto' && reachableBeyondHost(init))
      ? { relay: circuitRelayServer(relayServerOptions(init.relayServer)) }
      : {}),
  }
}

/** An IP transport with a listen address beyond loopback: something other hosts could reach. */
function reachableBeyondHost(init: NetInit): boolean {
  return init.transport !== 'memory' && init.listen.some(notLoopback)
}

function notLoopback(address: string): boolean {
  const host = /^\/ip[46]\/([^/]+)\//.exec(address)?.[1]
  return host !== undefined && !host.startsWith('127.') && host !== '::1'
}

/** A listen address a router could map: IPv4 TCP, not loopback. */
function mappable(address: string): boolean {
  const host = /^\/ip4\/([^/]+)\/tcp\//.exec(address)?.[1]
  return host !== undefined && !host.startsWith('127.')
}
