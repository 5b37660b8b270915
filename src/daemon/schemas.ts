/** JSON schemas of the API's bodies and replies: validation, serialisation and the OpenAPI document. */

export const errorReply = {
  $id: 'ErrorReply',
  type: 'object',
  description: 'Every failed request answers with this body; codes are listed in docs/errors.md.',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['name', 'code', 'message'],
      properties: {
        name: { type: 'string', description: 'Error class name, e.g. PeerUnreachableError' },
        code: { type: 'string', description: 'Stable code, e.g. LAT_ERR_PEER_UNREACHABLE' },
        message: { type: 'string' },
      },
    },
  },
} as const

export const peerConnection = {
  $id: 'PeerConnection',
  type: 'object',
  required: ['peerId', 'addresses', 'direction', 'protocols', 'openedAt'],
  properties: {
    peerId: { type: 'string' },
    addresses: { type: 'array', items: { type: 'string' } },
    direction: { type: 'string', enum: ['inbound', 'outbound'] },
    latencyMs: { type: 'number', description: 'Last measured round trip' },
    protocols: { type: 'array', items: { type: 'string' } },
    agent: { type: 'string' },
    openedAt: { type: 'number', description: 'Unix time in ms' },
    encryption: { type: 'string' },
    muxer: { type: 'string' },
  },
} as const

export const idReply = {
  type: 'object',
  required: ['peerId', 'addresses', 'agentVersion', 'protocols'],
  properties: {
    peerId: { type: 'string' },
    addresses: { type: 'array', items: { type: 'string' } },
    agentVersion: { type: 'string' },
    protocols: { type: 'array', items: { type: 'string' } },
  },
} as const

export const statusReply = {
  type: 'object',
  required: ['peerId', 'agentVersion', 'uptimeMs', 'startedAt', 'connections', 'addresses', 'dht', 'dataDir'],
  properties: {
    peerId: { type: 'string' },
    agentVersion: { type: 'string' },
    uptimeMs: { type: 'number' },
    startedAt: { type: 'number' },
    connections: { type: 'integer' },
    addresses: { type: 'array', items: { type: 'string' } },
    dht: {
      type: 'object',
      required: ['mode', 'routingTableSize', 'protocol'],
      properties: {
        mode: { type: 'string', enum: ['client', 'server'] },
        routingTableSize: { type: 'integer' },
        protocol: { type: 'string' },
      },
    },
    dataDir: { type: ['string', 'null'] },
  },
} as const

export const peersReply = {
  type: 'object',
  required: ['peers'],
  properties: { peers: { type: 'array', items: { $ref: 'PeerConnection#' } } },
} as const

export const connectBody = {
  type: 'object',
  required: ['address'],
  additionalProperties: false,
  properties: {
    address: {
      type: 'string',
      minLength: 1,
      maxLength: 1024,
      description: 'Multiaddr ending in /p2p/<peerId>, or a peer ID',
    },
  },
} as const

export const pingBody = {
  type: 'object',
  required: ['peer'],
  additionalProperties: false,
  properties: {
    peer: { type: 'string', minLength: 1, maxLength: 1024, description: 'Peer ID or multiaddr' },
    count: { type: 'integer', minimum: 1, maximum: 100, default: 1 },
  },
} as const

export const pingReply = {
  type: 'object',
  required: ['peer', 'rttsMs'],
  properties: {
    peer: { type: 'string' },
    rttsMs: { type: 'array', items: { type: 'number' } },
  },
} as const

export const healthReply = {
  type: 'object',
  required: ['ok'],
  properties: { ok: { type: 'boolean' }, peerId: { type: 'string' } },
} as const
