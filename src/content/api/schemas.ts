/**
 * The content API's shapes (TypeBox): request validation, reply serialisation, the OpenAPI
 * document, and (through `Static`) the types the CLI and the dashboard use. The progress and
 * result shapes of content transfers are checked at compile time against the library's own
 * types (bottom of this file), so the API and the library cannot drift apart.
 */
import { type Static, Type } from '@sinclair/typebox'
import { stringEnum } from '../../core/settings.ts'
import type { TransferView, transfersReply } from '../../daemon/schemas.ts'
import type { AddProgress, AddResult, FetchProgress, FolderEntry, GetResult, Pin, Provider } from '../index.ts'

const cid = Type.String({ minLength: 1, maxLength: 256 })

export const cidParams = Type.Object({ cid })
export type CidParams = Static<typeof cidParams>

const wait = Type.Optional(
  Type.Boolean({
    default: false,
    description: 'Answer when the operation is over (200 with the final transfer) instead of at once (202)',
  }),
)

const timeoutMs = Type.Optional(
  Type.Integer({
    minimum: 1,
    maximum: 86_400_000,
    description:
      'Fail with NoProvidersError when no provider is found for this long (default content.providerTimeoutMs)',
  }),
)

export const addBody = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      maxLength: 4096,
      description: 'Absolute path of a file or folder the daemon can read',
    }),
    cidVersion: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1)])),
    chunker: Type.Optional(Type.String({ maxLength: 32, description: 'size-N (bytes)' })),
    rawLeaves: Type.Optional(Type.Boolean()),
    onlyHash: Type.Optional(Type.Boolean({ description: 'Compute the CIDs without storing or announcing anything' })),
    wait,
  },
  { additionalProperties: false },
)
export type AddBody = Static<typeof addBody>

export const getBody = Type.Object(
  {
    output: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        description: 'Absolute path to write the file or folder to (must not exist)',
      }),
    ),
    pin: Type.Optional(Type.Boolean({ default: true, description: 'Keep and announce the content' })),
    timeoutMs,
    wait,
  },
  { additionalProperties: false },
)
export type GetBody = Static<typeof getBody>

export const pinBody = Type.Object({ timeoutMs, wait }, { additionalProperties: false })
export type PinBody = Static<typeof pinBody>

/** Query strings are strings (no type coercion): milliseconds as digits. */
export const timeoutQuery = Type.Object(
  {
    timeoutMs: Type.Optional(
      Type.String({ pattern: '^[1-9][0-9]{0,7}$', description: 'Milliseconds (1 to 99999999)' }),
    ),
  },
  { additionalProperties: false },
)
export type TimeoutQuery = Static<typeof timeoutQuery>

export const dataQuery = Type.Object(
  {
    filename: Type.Optional(
      Type.String({ maxLength: 255, description: 'Offer the bytes as a download with this file name' }),
    ),
  },
  { additionalProperties: false },
)
export type DataQuery = Static<typeof dataQuery>

export const folderEntry = Type.Object({
  name: Type.String(),
  cid: Type.String(),
  type: stringEnum(['file', 'directory', 'other']),
  size: Type.Number(),
})
export type FolderEntryView = Static<typeof folderEntry>

export const lsReply = Type.Object({ cid: Type.String(), entries: Type.Array(folderEntry) })
export type LsReply = Static<typeof lsReply>

export const provider = Type.Object({
  peerId: Type.String(),
  sources: Type.Array(stringEnum(['connected', 'dht'])),
  addresses: Type.Array(Type.String()),
})

export const providersReply = Type.Object({ cid: Type.String(), providers: Type.Array(provider) })
export type ProvidersReply = Static<typeof providersReply>

export const pin = Type.Object({ cid: Type.String(), addedAt: Type.Number(), size: Type.Optional(Type.Number()) })
export const pinsReply = Type.Object({ pins: Type.Array(pin) })
export type PinsReply = Static<typeof pinsReply>

export const unpinReply = Type.Object({ cid: Type.String() })
export type UnpinReply = Static<typeof unpinReply>

export const gcReply = Type.Object({ removed: Type.Integer(), bytes: Type.Number() })
export type GcReply = Static<typeof gcReply>

export const limits = Type.Object({ uploadLimit: Type.Number(), downloadLimit: Type.Number() })
export type Limits = Static<typeof limits>

export const limitsBody = Type.Object(
  {
    uploadLimit: Type.Optional(Type.Integer({ minimum: 0 })),
    downloadLimit: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
)
export type LimitsBody = Static<typeof limitsBody>

export const statsReply = Type.Object({
  uploadLimit: Type.Number(),
  downloadLimit: Type.Number(),
  served: Type.Array(Type.Object({ peerId: Type.String(), bytes: Type.Number(), blocks: Type.Integer() })),
  offences: Type.Array(Type.Object({ peerId: Type.String(), corruptBlocks: Type.Integer(), refused: Type.Boolean() })),
})
export type StatsReply = Static<typeof statsReply>

/** What one peer delivered to a download. */
export const peerTally = Type.Object({
  peerId: Type.String(),
  bytes: Type.Number({ description: 'Block bytes this peer delivered (and that were kept)' }),
  blocks: Type.Integer(),
  rateBps: Type.Number({ description: 'Recent delivery rate, bytes per second' }),
  state: stringEnum(['active', 'dropped', 'corrupt', 'timed-out']),
})
export type PeerTallyView = Static<typeof peerTally>

/** `progress` of a get or pin transfer. */
export const fetchProgress = Type.Object({
  cid: Type.String(),
  totalBytes: Type.Optional(Type.Number({ description: 'Bytes of the whole DAG, when the root says' })),
  fetchedBytes: Type.Number(),
  fetchedBlocks: Type.Integer(),
  storedBytes: Type.Number({ description: 'Bytes found already stored here (resume)' }),
  storedBlocks: Type.Integer(),
  rateBps: Type.Number(),
  etaMs: Type.Optional(Type.Number()),
  peers: Type.Array(peerTally),
})
export type FetchProgressView = Static<typeof fetchProgress>

/** `result` of a get or pin transfer. */
export const getResult = Type.Composite([
  fetchProgress,
  Type.Object({
    blocks: Type.Integer(),
    bytes: Type.Number(),
    durationMs: Type.Number(),
    output: Type.Optional(Type.String()),
    pinned: Type.Boolean(),
  }),
])
export type GetResultView = Static<typeof getResult>

/** `progress` of an add transfer. */
export const addProgress = Type.Object({
  bytes: Type.Number({ description: 'Bytes read from the source so far' }),
  total: Type.Optional(Type.Number()),
  path: Type.String({ description: 'The file being read' }),
})
export type AddProgressView = Static<typeof addProgress>

/** `result` of an add transfer. */
export const addResult = Type.Object({
  cid: Type.String(),
  size: Type.Number(),
  entries: Type.Array(Type.Object({ path: Type.String(), cid: Type.String(), size: Type.Number() })),
})
export type AddResultView = Static<typeof addResult>

/** A content transfer as the API shows it: the daemon's transfer with content's progress and result. */
export type ContentTransfer = AddTransfer | FetchTransfer

type TransferBase = Omit<TransferView, 'kind' | 'progress' | 'result'>

export type AddTransfer = TransferBase & { kind: 'add'; progress?: AddProgressView; result?: AddResultView }

/** A get or a pin: both fetch what is missing from peers. */
export type FetchTransfer = TransferBase & {
  kind: 'get' | 'pin'
  progress?: FetchProgressView
  result?: GetResultView
}

/** GET /v1/transfers as the Files view reads it: content transfers (add, get, pin). */
export type ContentTransfersReply = Omit<Static<typeof transfersReply>, 'transfers'> & {
  transfers: ContentTransfer[]
}

/** A browser's upload, named by the daemon when it is opened. */
export const uploadParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{16}$' }) })
export type UploadParams = Static<typeof uploadParams>

export const uploadReply = Type.Object({ id: Type.String() })
export type UploadReply = Static<typeof uploadReply>

/** Longest relative path of one uploaded file. */
export const UPLOAD_PATH_MAX = 4096

export const uploadFileQuery = Type.Object(
  { path: Type.String({ maxLength: UPLOAD_PATH_MAX }) },
  { additionalProperties: false },
)
export type UploadFileQuery = Static<typeof uploadFileQuery>

export const uploadFileReply = Type.Object({ path: Type.String(), size: Type.Integer() })
export type UploadFileReply = Static<typeof uploadFileReply>

const uploadAddOptions = Type.Partial(
  Type.Object(
    {
      cidVersion: Type.Unsafe<0 | 1>({ type: 'integer', enum: [0, 1] }),
      chunker: Type.String({ maxLength: 32 }),
      rawLeaves: Type.Boolean(),
      wait: Type.Boolean(),
    },
    { additionalProperties: false },
  ),
)
export type UploadAddBody = Static<typeof uploadAddOptions>

/**
 * The options of adding an upload, all optional, and the body may be left out: Fastify checks a
 * missing body as `null`, hence `type: ['object', 'null']` (one schema rather than an `anyOf`,
 * whose validation errors would name both branches).
 */
export const uploadAddBody = Type.Unsafe<UploadAddBody | null>({ ...uploadAddOptions, type: ['object', 'null'] })

/** A one-time download link for a stored file (browsers cannot send the token with a plain link). */
export const linkBody = Type.Object(
  { filename: Type.String({ minLength: 1, maxLength: 255 }) },
  { additionalProperties: false },
)
export type LinkBody = Static<typeof linkBody>

export const linkReply = Type.Object({ path: Type.String(), expiresAt: Type.Number() })
export type LinkReply = Static<typeof linkReply>

export const linkParams = Type.Object({ code: Type.String({ maxLength: 64 }) })
export type LinkParams = Static<typeof linkParams>

// The API shapes are the library's: a change on one side that the other lacks fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const shapesMatch: [
  Same<FetchProgress, FetchProgressView>,
  Same<GetResult, GetResultView>,
  Same<AddProgress, AddProgressView>,
  Same<AddResult, AddResultView>,
  Same<FolderEntry, FolderEntryView>,
  Same<Provider, Static<typeof provider>>,
  Same<Pin, Omit<Static<typeof pin>, 'size'>>,
] = [true, true, true, true, true, true, true]
void shapesMatch
