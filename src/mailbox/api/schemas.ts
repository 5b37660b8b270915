/**
 * The mailbox API's shapes (TypeBox): request validation, reply serialisation, the OpenAPI
 * document, and (through `Static`) the types the CLI and the dashboard use. Checked at compile
 * time against the library's own types (bottom of this file).
 */
import { type Static, Type } from '@sinclair/typebox'
import { stringEnum } from '../../core/settings.ts'
import type { CollectResult, MailboxStatus } from '../index.ts'

export const collectResult = Type.Object(
  {
    mailbox: Type.String({ description: 'Peer ID of the mailbox' }),
    at: Type.Number({ description: 'When the collection ended, ms since epoch' }),
    received: Type.Integer({ description: 'Messages stored in the inbox' }),
    duplicates: Type.Integer({ description: 'Messages the inbox had already' }),
    refused: Type.Integer({
      description: 'Messages refused for good (could not be opened or verified, or from a removed device)',
    }),
    remaining: Type.Optional(Type.Integer({ description: 'Messages the mailbox still holds for this device' })),
    error: Type.Optional(Type.String({ description: 'Why it stopped early or did not start' })),
  },
  { $id: 'MailboxCollectResult' },
)
export type CollectResultView = Static<typeof collectResult>

export const holding = Type.Object(
  {
    identity: Type.String({ description: 'The identity whose mail this node holds' }),
    messages: Type.Integer(),
    bytes: Type.Integer(),
    quota: Type.Optional(Type.Integer({ description: 'Bytes the grant held now allows (absent once it lapsed)' })),
    senders: Type.Integer({ description: 'Peers whose deposits are held' }),
    devices: Type.Array(Type.Object({ device: Type.String(), messages: Type.Integer() })),
    oldest: Type.Number({ description: 'When the oldest message held was deposited, ms since epoch' }),
    grant: stringEnum(['active', 'lapsed'], {
      description: 'active: the /msg/deposit grant holds; lapsed: it expired, the mail goes at `until`',
    }),
    grantCid: Type.Optional(Type.String()),
    until: Type.Optional(
      Type.Number({ description: 'When the grant ends (active), or when the mail is dropped (lapsed)' }),
    ),
  },
  { $id: 'MailboxHolding' },
)
export type HoldingView = Static<typeof holding>

export const statusReply = Type.Object({
  identity: Type.String({ description: "This node's identity" }),
  mailboxes: Type.Array(
    Type.Object({
      peerId: Type.String(),
      connected: Type.Boolean(),
      last: Type.Optional(Type.Ref(collectResult)),
    }),
    { description: "This identity's mailboxes (its profile), with the last collection from each" },
  ),
  holding: Type.Array(Type.Ref(holding), { description: 'What this node holds for others, per identity' }),
  total: Type.Object({
    messages: Type.Integer(),
    bytes: Type.Integer(),
    maxMessages: Type.Integer(),
    maxBytes: Type.Integer(),
  }),
})
export type MailboxStatusReply = Static<typeof statusReply>

export const collectBody = Type.Object(
  {
    mailbox: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: 'Collect from this mailbox only' }),
    ),
  },
  { additionalProperties: false },
)
export type CollectBody = Static<typeof collectBody>

export const collectReply = Type.Object({ results: Type.Array(Type.Ref(collectResult)) })
export type CollectReply = Static<typeof collectReply>

export const mailboxSchemas = [collectResult, holding]

// The API shapes are the library's: a change on one side that the other lacks fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type StatusView = Omit<MailboxStatusReply, 'mailboxes' | 'holding'> & {
  mailboxes: Array<Omit<MailboxStatusReply['mailboxes'][number], 'last'> & { last?: CollectResultView }>
  holding: HoldingView[]
}
const shapesMatch: [Same<CollectResult, CollectResultView>, Same<MailboxStatus, StatusView>] = [true, true]
void shapesMatch
