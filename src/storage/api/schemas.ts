/**
 * The storage API's shapes (TypeBox): request validation, reply serialisation, the OpenAPI
 * document, and (through `Static`) the types the CLI and the dashboard use.
 */
import { type Static, Type } from '@sinclair/typebox'
import { stringEnum } from '../../core/settings.ts'

const target = Type.String({
  minLength: 1,
  maxLength: 256,
  description: 'A peer ID, a contact name, or an identity ID (then each of its devices that holds a grant)',
})
const cid = Type.String({ minLength: 1, maxLength: 128, description: 'Root CID of the content' })
const names = {
  identity: Type.Optional(Type.String({ description: "The keeper's identity, when known here" })),
  contact: Type.Optional(Type.String({ description: "This node's contact name for that identity, if any" })),
}

const checkFields = {
  at: Type.Number({ description: 'When it was asked, ms since epoch' }),
  status: stringEnum(['proven', 'failed', 'unreachable'], {
    description:
      'proven: the answer is right; failed: wrong, refused or late; unreachable: the keeper could not be asked',
  }),
  kind: stringEnum(['range', 'block'], {
    description: 'range: a precomputed digest over a byte range; block: the blocks from the root to a random block',
  }),
  reason: Type.Optional(Type.String()),
  rttMs: Type.Optional(Type.Number({ description: 'From sending the challenge to reading the answer, ms' })),
}

export const storageCheck = Type.Object(checkFields, { $id: 'StorageCheck' })
export type StorageCheckView = Static<typeof storageCheck>

export const placementView = Type.Object(
  {
    cid: Type.String(),
    peer: Type.String({ description: "The keeper's peer ID" }),
    ...names,
    size: Type.Integer({ description: 'Bytes the keeper holds (the whole DAG)' }),
    since: Type.Number({ description: 'When the keeper took it, ms since epoch' }),
    lastProvenAt: Type.Optional(Type.Number({ description: 'When a check last proved it, ms since epoch' })),
    lastCheck: Type.Optional(Type.Ref(storageCheck)),
    challengesLeft: Type.Integer({
      description: 'Precomputed challenges left; past them, checks ask for whole blocks',
    }),
    nextCheckAt: Type.Optional(Type.Number({ description: 'When the next scheduled check is due, ms since epoch' })),
  },
  { $id: 'StoragePlacement' },
)
export type PlacementViewReply = Static<typeof placementView>

export const keptCopyView = Type.Object(
  {
    subject: Type.String({ description: 'The identity it is kept for' }),
    contact: Type.Optional(Type.String()),
    cid: Type.String(),
    size: Type.Integer(),
    since: Type.Number(),
    from: Type.String({ description: 'The device that asked' }),
    grant: Type.String({ description: 'CID of the grant it is kept under' }),
    grantExpiresAt: Type.Number(),
  },
  { $id: 'KeptCopy' },
)
export type KeptCopyView = Static<typeof keptCopyView>

export const subjectUsageView = Type.Object({
  subject: Type.String(),
  contact: Type.Optional(Type.String()),
  usedBytes: Type.Integer(),
  copies: Type.Integer(),
  quota: Type.Optional(Type.Integer({ description: "The grant's quota, bytes" })),
  state: stringEnum(['active', 'lapsed'], {
    description: 'active: a valid grant covers the copies; lapsed: none does, and they go at dropAt',
  }),
  expiresAt: Type.Optional(Type.Number()),
  dropAt: Type.Optional(Type.Number()),
})
export type SubjectUsageView = Static<typeof subjectUsageView>

export const storeBody = Type.Object({ cid, on: target }, { additionalProperties: false })
export type StoreBody = Static<typeof storeBody>

export const putReply = Type.Object({
  cid: Type.String(),
  on: Type.String(),
  keepers: Type.Array(
    Type.Object({
      peer: Type.String(),
      status: stringEnum(['kept', 'refused', 'unreachable']),
      size: Type.Optional(Type.Integer()),
      error: Type.Optional(Type.String()),
      code: Type.Optional(
        Type.String({ description: 'The refusal: an error name or a wire code (no-grant, busy, ...)' }),
      ),
    }),
  ),
})
export type PutReply = Static<typeof putReply>

export const checkReply = Type.Object({
  checks: Type.Array(Type.Object({ cid: Type.String(), peer: Type.String(), ...checkFields })),
})
export type CheckReply = Static<typeof checkReply>

export const dropReply = Type.Object({ cid: Type.String(), dropped: Type.Array(Type.String()) })
export type DropReply = Static<typeof dropReply>

export const listQuery = Type.Object({ on: Type.Optional(target) })
export type ListQuery = Static<typeof listQuery>

export const listReply = Type.Object({
  placed: Type.Array(Type.Ref(placementView), {
    description: 'What keepers keep for this identity, as this device placed it',
  }),
  kept: Type.Array(Type.Ref(keptCopyView), { description: 'What this node keeps for others' }),
  keptFor: Type.Array(subjectUsageView, { description: 'What this node keeps, per identity, with its grant' }),
})
export type ListReply = Static<typeof listReply>

/** Registered once at the API's root so routes (and the OpenAPI document) can `$ref` them. */
export const storageSchemas = [storageCheck, placementView, keptCopyView]
