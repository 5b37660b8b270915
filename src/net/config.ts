/**
 * The network's settings in config.json: the top-level keys `listen`, `bootstrap`, `mdns`,
 * `encrypters`, `metrics`, `autonat`, `upnp`, `punch` and the sections `dht`, `connections` and `relay`
 * (docs/config.md, docs/reachability.md).
 */
import { Type } from '@sinclair/typebox'
import {
  DEFAULT_AUTO_DIAL_TARGET,
  DEFAULT_BAN_MS,
  DEFAULT_BAN_PENALTY,
  DEFAULT_DHT_RPC_MAX_TIMEOUT_MS,
  DEFAULT_DHT_RPC_MIN_TIMEOUT_MS,
  DEFAULT_DIAL_TIMEOUT_MS,
  DEFAULT_HANG_UP_HOLD_MS,
  DEFAULT_INBOUND_CONNECTIONS_PER_HOST,
  DEFAULT_LISTEN,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_PEER,
  DEFAULT_MAX_INCOMING_PENDING,
  DEFAULT_MDNS_INTERVAL_MS,
  DEFAULT_PEER_STREAM_BURST,
  DEFAULT_PEER_STREAMS_PER_SECOND,
  DEFAULT_RECONNECT_AT_START,
  DEFAULT_REDIAL_FOR_MS,
  DEFAULT_REDIAL_INTERVAL_MS,
  DEFAULT_RELAY_DATA_LIMIT_BYTES,
  DEFAULT_RELAY_DURATION_LIMIT_MS,
  DEFAULT_RELAY_MAX_CIRCUITS_PER_PEER,
  DEFAULT_RELAY_MAX_RESERVATIONS,
  DEFAULT_RELAY_MAX_RESERVATIONS_PER_IP,
  DEFAULT_RELAY_RESERVATION_TTL_MS,
  DEFAULT_RELAY_RESERVATIONS,
} from '../core/constants.ts'
import { count, flag, millis, oneOf, type Static, section, stringEnum, strings } from '../core/settings.ts'

export const netSettings = {
  listen: strings(
    'libp2p listen addresses (TCP, WebSockets). A busy fixed TCP port is replaced by a free one.',
    DEFAULT_LISTEN,
    {
      flag: '--listen MA (repeatable)',
    },
  ),
  announce: strings(
    'addresses announced as they are, without waiting for AutoNAT to confirm them (a server whose public address its operator knows), each `/ip4/.../tcp/PORT`',
    [],
    { flag: '--announce MA (repeatable)' },
  ),
  bootstrap: strings('peers dialled at start, each `/.../p2p/PEER_ID`. Never public ones by default.', [], {
    flag: '--bootstrap MA (repeatable)',
  }),
  mdns: flag('LAN discovery by multicast DNS (service `_lateral-discovery._udp.local`)', true, { flag: '--no-mdns' }),
  mdnsIntervalMs: millis('how often mDNS asks the LAN for peers', DEFAULT_MDNS_INTERVAL_MS, { minimum: 100 }),
  encrypters: Type.Array(stringEnum(['tls', 'noise']), {
    minItems: 1,
    uniqueItems: true,
    description: 'connection encrypters in order of preference (TLS 1.3 moves bulk data faster here)',
    default: ['tls', 'noise'],
  }),
  metrics: flag('collect Prometheus metrics for `GET /metrics` (and the per-peer byte counts)', true),
  autonat: flag('AutoNAT v2: peers in other networks dial our addresses back to confirm we are reachable', true),
  upnp: flag(
    'UPnP port mapping on the router, removed on stop (only where a non-loopback IPv4 address is listened on)',
    true,
    { flag: '--no-upnp' },
  ),
  punch: flag(
    'TCP hole punching with peers reached through a relay, when both are behind NATs that keep ports (docs/protocols/punch.md)',
    true,
    { flag: '--no-punch' },
  ),
  relay: section('Circuit relay v2 (docs/reachability.md)', {
    reservations: count(
      'relay reservations kept, on distinct relays, while no address of ours is confirmed public (0: none)',
      DEFAULT_RELAY_RESERVATIONS,
    ),
    server: Type.Union([Type.Boolean(), Type.Literal('auto')], {
      description:
        "serve as a relay for others: `'auto'` only while an address of ours is confirmed public (AutoNAT, UPnP or `announce`) and the machine is not on battery; `true` always; `false` never",
      default: 'auto',
      flag: '--relay-server / --no-relay-server',
    }),
    maxCircuitsPerPeer: count(
      'relay server: relayed circuits (and reservation requests) one peer may hold at once',
      DEFAULT_RELAY_MAX_CIRCUITS_PER_PEER,
    ),
    maxReservationsPerIp: count(
      'relay server: reservations held for peers connected from one IP address',
      DEFAULT_RELAY_MAX_RESERVATIONS_PER_IP,
    ),
    maxReservations: count(
      'relay server: reservations held at once, all peers together',
      DEFAULT_RELAY_MAX_RESERVATIONS,
    ),
    reservationTtlMs: millis(
      'relay server: how long a reservation lasts before renewal',
      DEFAULT_RELAY_RESERVATION_TTL_MS,
    ),
    durationLimitMs: millis(
      'relay server: how long one relayed connection may stay open',
      DEFAULT_RELAY_DURATION_LIMIT_MS,
    ),
    dataLimitBytes: count(
      'relay server: bytes one relayed connection may carry before it is reset (0: no limit, bulk allowed)',
      DEFAULT_RELAY_DATA_LIMIT_BYTES,
    ),
  }),
  dht: section('Kademlia DHT', {
    mode: oneOf(
      "`server` answers DHT queries. libp2p's automatic mode stays client-only without public addresses, which would leave a LAN with no DHT.",
      ['server', 'client'] as const,
      'server',
    ),
    rpcMinTimeoutMs: millis(
      'smallest time one DHT request to one peer may take before it counts as failed (kad-dht raises it from measured answers); a dead peer holds a lookup slot this long',
      DEFAULT_DHT_RPC_MIN_TIMEOUT_MS,
      { minimum: 100 },
    ),
    rpcMaxTimeoutMs: millis(
      'largest time one DHT request to one peer may take: after failed requests kad-dht waits longer for every request, up to this, and a dead peer then holds a lookup slot this long',
      DEFAULT_DHT_RPC_MAX_TIMEOUT_MS,
      { minimum: 100 },
    ),
  }),
  connections: section('Connection manager', {
    max: count('connection manager limit', DEFAULT_MAX_CONNECTIONS),
    maxIncomingPending: count('inbound connections being upgraded at once', DEFAULT_MAX_INCOMING_PENDING),
    dialTimeoutMs: millis('dial and ping timeout', DEFAULT_DIAL_TIMEOUT_MS),
    autoDialTarget: count(
      'discovered peers (mDNS, DHT, bootstrap) are dialled while fewer than this many are connected',
      DEFAULT_AUTO_DIAL_TARGET,
    ),
    reconnectAtStart: count(
      'peers remembered in the peer store (from earlier runs) that are redialled at start',
      DEFAULT_RECONNECT_AT_START,
    ),
    redialIntervalMs: millis(
      'a peer lost without a goodbye (a crash, a dropped link, a network split) is redialled this often, while fewer than `autoDialTarget` are connected',
      DEFAULT_REDIAL_INTERVAL_MS,
      { minimum: 100 },
    ),
    redialForMs: millis('...for this long, then given up', DEFAULT_REDIAL_FOR_MS),
    perHostPerSecond: count(
      'inbound connections per second from one IP address before more are refused',
      DEFAULT_INBOUND_CONNECTIONS_PER_HOST,
      { minimum: 1 },
    ),
    maxPerPeer: count('connections one peer may hold open at once', DEFAULT_MAX_CONNECTIONS_PER_PEER, { minimum: 1 }),
    streamBurst: count(
      'inbound streams a peer may open at once (all protocols; a connection counts as 16)...',
      DEFAULT_PEER_STREAM_BURST,
      { minimum: 1 },
    ),
    streamsPerSecond: count(
      '...and per second after that; a stream past it is reset and costs its peer 0.25 penalty points',
      DEFAULT_PEER_STREAMS_PER_SECOND,
      { minimum: 1 },
    ),
    banPenalty: count(
      'penalty points (protocol violations, halving every minute) at which a peer is disconnected and banned',
      DEFAULT_BAN_PENALTY,
      { minimum: 1 },
    ),
    banMs: millis('how long a banned peer is refused, both ways', DEFAULT_BAN_MS),
    hangUpHoldMs: millis(
      'how long a peer this node hung up on (`lateral disconnect`) is refused, both ways, unless connected to again by the user; 0 holds nothing',
      DEFAULT_HANG_UP_HOLD_MS,
      { minimum: 0 },
    ),
  }),
}

const netConfig = Type.Object(netSettings)
export type NetConfig = Static<typeof netConfig>
