/**
 * The node's own API shapes (TypeBox): each schema validates requests, serialises replies and
 * feeds the OpenAPI document, and its `Static` type is what the CLI and the dashboard use, so a
 * shape is written once. Each service declares its own in `src/<service>/api/schemas.ts`.
 */
import { type Static, Type } from '@sinclair/typebox'
import { stringEnum } from '../core/settings.ts'

export const errorReply = Type.Object(
  {
    error: Type.Object({
      name: Type.String({ description: 'Error class name, e.g. PeerUnreachableError' }),
      code: Type.String({ description: 'Stable code, e.g. LAT_ERR_PEER_UNREACHABLE' }),
      message: Type.String(),
    }),
  },
  {
    $id: 'ErrorReply',
    description: 'Every failed request answers with this body; codes are listed in docs/errors.md.',
  },
)
export type ErrorReply = Static<typeof errorReply>

/** Error replies every route may give. */
export const errorResponses = {
  400: Type.Ref(errorReply),
  401: Type.Ref(errorReply),
  500: Type.Ref(errorReply),
}

export const peerConnection = Type.Object(
  {
    peerId: Type.String(),
    addresses: Type.Array(Type.String()),
    direction: stringEnum(['inbound', 'outbound']),
    latencyMs: Type.Optional(Type.Number({ description: 'Last measured round trip' })),
    protocols: Type.Array(Type.String()),
    agent: Type.Optional(Type.String()),
    openedAt: Type.Number({ description: 'Unix time in ms' }),
    encryption: Type.Optional(Type.String()),
    muxer: Type.Optional(Type.String()),
    bytesIn: Type.Optional(Type.Integer({ description: 'Bytes received from the peer over its open connections' })),
    bytesOut: Type.Optional(Type.Integer({ description: 'Bytes sent to the peer over its open connections' })),
    kind: stringEnum(['direct', 'relayed'], {
      description: 'direct when a connection to the peer is direct, relayed when all go through a relay',
    }),
  },
  { $id: 'PeerConnection' },
)
export type PeerConnectionView = Static<typeof peerConnection>

export const idReply = Type.Object({
  peerId: Type.String(),
  addresses: Type.Array(Type.String()),
  agentVersion: Type.String(),
  protocols: Type.Array(Type.String()),
})
export type IdReply = Static<typeof idReply>

export const statusReply = Type.Object({
  peerId: Type.String(),
  agentVersion: Type.String(),
  uptimeMs: Type.Number(),
  startedAt: Type.Number(),
  connections: Type.Integer(),
  addresses: Type.Array(Type.String()),
  dht: Type.Object({
    mode: stringEnum(['client', 'server']),
    routingTableSize: Type.Integer(),
    protocol: Type.String(),
  }),
  reachability: stringEnum(['public', 'private', 'relayed'], {
    description: 'public: an address confirmed by AutoNAT dial-backs or UPnP; relayed: a relay holds a reservation',
  }),
  reachabilityReasons: Type.Array(Type.String(), { description: 'How the reachability was learned' }),
  nat: stringEnum(['none', 'home', 'hard', 'carrier', 'unknown'], {
    description: 'The NAT in front of this node as far as it can tell (`lateral doctor` says why)',
  }),
  traffic: Type.Union([Type.Object({ bytesIn: Type.Integer(), bytesOut: Type.Integer() }), Type.Null()], {
    description: 'Bytes on the wire since start; null when metrics are off',
  }),
  dataDir: Type.Union([Type.String(), Type.Null()]),
})
export type StatusReply = Static<typeof statusReply>

export const peersReply = Type.Object({ peers: Type.Array(Type.Ref(peerConnection)) })
export type PeersReply = Static<typeof peersReply>

export const connectBody = Type.Object(
  {
    address: Type.String({
      minLength: 1,
      maxLength: 1024,
      description: 'Multiaddr ending in /p2p/<peerId>, or a peer ID',
    }),
  },
  { additionalProperties: false },
)
export type ConnectBody = Static<typeof connectBody>

export const disconnectBody = Type.Object(
  { peer: Type.String({ minLength: 1, maxLength: 128, description: 'Peer ID to hang up on' }) },
  { additionalProperties: false },
)
export type DisconnectBody = Static<typeof disconnectBody>

export const disconnectReply = Type.Object({
  peerId: Type.String(),
  connections: Type.Integer({
    minimum: 0,
    description: 'Connections that were open to the peer and are now closed (0: it was not connected)',
  }),
  refusedUntil: Type.Optional(
    Type.Number({
      description:
        'Unix ms until which the peer is refused both ways, unless connected to again (absent when connections.hangUpHoldMs is 0)',
    }),
  ),
})
export type DisconnectReply = Static<typeof disconnectReply>

export const pingBody = Type.Object(
  {
    peer: Type.String({ minLength: 1, maxLength: 1024, description: 'Peer ID or multiaddr' }),
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 1 })),
  },
  { additionalProperties: false },
)
export type PingBody = Static<typeof pingBody>

export const pingReply = Type.Object({ peer: Type.String(), rttsMs: Type.Array(Type.Number()) })
export type PingReply = Static<typeof pingReply>

export const healthReply = Type.Object({ ok: Type.Boolean(), peerId: Type.Optional(Type.String()) })

export const bandwidthReply = Type.Object({
  intervalMs: Type.Integer(),
  samples: Type.Array(Type.Object({ time: Type.Number(), inPerSec: Type.Number(), outPerSec: Type.Number() })),
})
export type BandwidthReply = Static<typeof bandwidthReply>

/** The names of the node's services (for the CLI's and the dashboard's per-service tables). */
export type { ServiceName } from '../node/registry.ts'

/** The dashboard sign-in's shapes (declared beside its routes; the page takes types from here). */
export * from './dashboard-schemas.ts'

/** A long operation (add, get, pin) with an ID; `progress` and `result` are the service's own shapes. */
export const transfer = Type.Object(
  {
    id: Type.String(),
    kind: stringEnum(['add', 'get', 'pin']),
    state: stringEnum(['running', 'done', 'failed', 'cancelled']),
    cid: Type.Optional(Type.String()),
    path: Type.Optional(Type.String({ description: 'add: the source path; get: the output path' })),
    startedAt: Type.Number(),
    endedAt: Type.Optional(Type.Number()),
    progress: Type.Optional(
      Type.Object(
        {},
        {
          additionalProperties: true,
          description:
            'add: {bytes, total, path}; get/pin: {cid, totalBytes, fetchedBytes, storedBytes, rateBps, etaMs, peers[]}',
        },
      ),
    ),
    result: Type.Optional(
      Type.Object(
        {},
        {
          additionalProperties: true,
          description:
            'add: {cid, size, entries[]}; get/pin: summary with blocks, bytes and the bytes each peer delivered',
        },
      ),
    ),
    error: Type.Optional(Type.Object({ name: Type.String(), code: Type.String(), message: Type.String() })),
  },
  {
    $id: 'Transfer',
    description: 'A long operation (add, get, pin). Follow it on /v1/transfers/{id}/events or /v1/events.',
  },
)
export type TransferView = Omit<Static<typeof transfer>, 'progress' | 'result'> & {
  progress?: unknown
  result?: unknown
}

export const transferParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })
export type TransferParams = Static<typeof transferParams>

export const transfersReply = Type.Object({ transfers: Type.Array(Type.Ref(transfer)) })

/** Schemas referenced by `$ref` from routes: registered once with `app.addSchema`. */
export const sharedSchemas = [errorReply, peerConnection, transfer]
