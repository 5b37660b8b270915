/** JSON schemas of the content routes (files, transfers, pins). */

export const transfer = {
  $id: 'Transfer',
  type: 'object',
  description: 'A long operation (add, get, pin). Follow it on /v1/transfers/{id}/events or /v1/events.',
  required: ['id', 'kind', 'state', 'startedAt'],
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['add', 'get', 'pin'] },
    state: { type: 'string', enum: ['running', 'done', 'failed', 'cancelled'] },
    cid: { type: 'string' },
    path: { type: 'string', description: 'add: the source path; get: the output path' },
    startedAt: { type: 'number' },
    endedAt: { type: 'number' },
    progress: {
      type: 'object',
      additionalProperties: true,
      description:
        'add: {bytes, total, path}; get/pin: {totalBytes, fetchedBytes, storedBytes, rateBps, etaMs, peers[]}',
    },
    result: {
      type: 'object',
      additionalProperties: true,
      description: 'add: {cid, size, entries[]}; get/pin: summary with blocks, bytes and the bytes each peer delivered',
    },
    error: {
      type: 'object',
      required: ['name', 'code', 'message'],
      properties: { name: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const

const cidParam = { type: 'string', minLength: 1, maxLength: 256 } as const

export const cidParams = {
  type: 'object',
  required: ['cid'],
  properties: { cid: cidParam },
} as const

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const

const wait = {
  type: 'boolean',
  default: false,
  description: 'Answer when the operation is over (200 with the final transfer) instead of at once (202)',
} as const

const timeoutMs = {
  type: 'integer',
  minimum: 1,
  maximum: 86_400_000,
  description: 'Fail with NoProvidersError when no provider is found for this long (default content.providerTimeoutMs)',
} as const

export const addBody = {
  type: 'object',
  required: ['path'],
  additionalProperties: false,
  properties: {
    path: {
      type: 'string',
      minLength: 1,
      maxLength: 4096,
      description: 'Absolute path of a file or folder the daemon can read',
    },
    cidVersion: { type: 'integer', enum: [0, 1] },
    chunker: { type: 'string', maxLength: 32, description: 'size-N (bytes)' },
    rawLeaves: { type: 'boolean' },
    onlyHash: { type: 'boolean', description: 'Compute the CIDs without storing or announcing anything' },
    wait,
  },
} as const

export const getBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    output: {
      type: 'string',
      minLength: 1,
      maxLength: 4096,
      description: 'Absolute path to write the file or folder to (must not exist)',
    },
    pin: { type: 'boolean', default: true, description: 'Keep and announce the content' },
    timeoutMs,
    wait,
  },
} as const

export const pinBody = {
  type: 'object',
  additionalProperties: false,
  properties: { timeoutMs, wait },
} as const

/** Query strings are strings (no type coercion): milliseconds as digits. */
export const lsQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    timeoutMs: { type: 'string', pattern: '^[1-9][0-9]{0,7}$', description: 'Milliseconds (1 to 99999999)' },
  },
} as const

export const dataQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    filename: { type: 'string', maxLength: 255, description: 'Offer the bytes as a download with this file name' },
  },
} as const

export const lsReply = {
  type: 'object',
  required: ['cid', 'entries'],
  properties: {
    cid: { type: 'string' },
    entries: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'cid', 'type', 'size'],
        properties: {
          name: { type: 'string' },
          cid: { type: 'string' },
          type: { type: 'string', enum: ['file', 'directory', 'other'] },
          size: { type: 'number' },
        },
      },
    },
  },
} as const

export const providersReply = {
  type: 'object',
  required: ['cid', 'providers'],
  properties: {
    cid: { type: 'string' },
    providers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['peerId', 'sources', 'addresses'],
        properties: {
          peerId: { type: 'string' },
          sources: { type: 'array', items: { type: 'string', enum: ['connected', 'dht'] } },
          addresses: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
} as const

export const pinsReply = {
  type: 'object',
  required: ['pins'],
  properties: {
    pins: {
      type: 'array',
      items: {
        type: 'object',
        required: ['cid', 'addedAt'],
        properties: { cid: { type: 'string' }, addedAt: { type: 'number' }, size: { type: 'number' } },
      },
    },
  },
} as const

export const gcReply = {
  type: 'object',
  required: ['removed', 'bytes'],
  properties: { removed: { type: 'integer' }, bytes: { type: 'number' } },
} as const

export const statsReply = {
  type: 'object',
  required: ['uploadLimit', 'downloadLimit', 'served', 'offences'],
  properties: {
    uploadLimit: { type: 'number' },
    downloadLimit: { type: 'number' },
    served: {
      type: 'array',
      items: {
        type: 'object',
        required: ['peerId', 'bytes', 'blocks'],
        properties: { peerId: { type: 'string' }, bytes: { type: 'number' }, blocks: { type: 'integer' } },
      },
    },
    offences: {
      type: 'array',
      items: {
        type: 'object',
        required: ['peerId', 'corruptBlocks', 'refused'],
        properties: { peerId: { type: 'string' }, corruptBlocks: { type: 'integer' }, refused: { type: 'boolean' } },
      },
    },
  },
} as const
