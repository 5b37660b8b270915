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

/** Error replies every route may give. */
export const errorResponses = {
  400: { $ref: 'ErrorReply#' },
  401: { $ref: 'ErrorReply#' },
  500: { $ref: 'ErrorReply#' },
}

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
    bytesIn: { type: 'integer', description: 'Bytes received from the peer over its open connections' },
    bytesOut: { type: 'integer', description: 'Bytes sent to the peer over its open connections' },
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
  required: [
    'peerId',
    'agentVersion',
    'uptimeMs',
    'startedAt',
    'connections',
    'addresses',
    'reachability',
    'dht',
    'traffic',
    'dataDir',
  ],
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
    reachability: {
      type: 'string',
      enum: ['public', 'private', 'relayed'],
      description: 'Judged from the announced addresses',
    },
    traffic: {
      type: ['object', 'null'],
      required: ['bytesIn', 'bytesOut'],
      properties: { bytesIn: { type: 'integer' }, bytesOut: { type: 'integer' } },
      description: 'Bytes on the wire since start; null when metrics are off',
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

/** A message body on the API: `text` for text/* types, `base64` always. */
const bodyFields = {
  type: { type: 'string', description: 'Content type, e.g. text/plain; charset=utf-8' },
  text: { type: 'string', description: 'The body decoded as UTF-8, for text/* types' },
  base64: { type: 'string', description: 'The body, base64' },
} as const

export const topicMessage = {
  $id: 'TopicMessage',
  type: 'object',
  required: ['topic', 'id', 'from', 'time', 'type', 'base64', 'receivedAt'],
  properties: {
    topic: { type: 'string' },
    id: { type: 'string' },
    from: { type: 'string', description: 'Author peer ID (signed)' },
    time: { type: 'number', description: 'Author clock, ms since epoch' },
    receivedAt: { type: 'number' },
    ...bodyFields,
  },
} as const

export const directMessage = {
  $id: 'DirectMessage',
  type: 'object',
  required: ['id', 'from', 'to', 'seq', 'time', 'type', 'base64'],
  properties: {
    id: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    seq: { type: 'integer' },
    time: { type: 'number' },
    receivedAt: { type: 'number' },
    createdAt: { type: 'number' },
    attempts: { type: 'integer' },
    lastError: { type: 'string' },
    failed: { type: 'boolean' },
    ...bodyFields,
  },
} as const

export const topicParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 100 } },
} as const

/** Either `text`, or `base64` (with an optional content `type`). */
export const messageBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    text: { type: 'string', maxLength: 1048576 },
    base64: { type: 'string', maxLength: 1398104 },
    type: { type: 'string', maxLength: 100 },
  },
} as const

export const sendBody = {
  ...messageBody,
  required: ['to'],
  properties: { ...messageBody.properties, to: { type: 'string', minLength: 1, maxLength: 128 } },
} as const

export const publishReply = {
  type: 'object',
  required: ['recipients', 'id', 'time', 'type'],
  properties: {
    recipients: { type: 'integer' },
    id: { type: 'string' },
    time: { type: 'number', description: 'The signed message time, ms since epoch' },
    type: { type: 'string', description: 'Content type of the body' },
  },
} as const

export const sendReply = {
  type: 'object',
  required: ['id', 'to', 'seq', 'status'],
  properties: {
    id: { type: 'string' },
    to: { type: 'string' },
    seq: { type: 'integer' },
    status: { type: 'string', enum: ['delivered', 'queued', 'failed'] },
    error: { type: 'string' },
  },
} as const
