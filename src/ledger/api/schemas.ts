/**
 * The ledger API's shapes (TypeBox): this node's chain and counterparties, receipts with one
 * peer, chain verification, fork proofs, reputation. The CLI and the dashboard take their types
 * from here.
 */
import { type Static, Type } from '@sinclair/typebox'
import { stringEnum } from '../../core/settings.ts'
import { forkView, receiptView, reputationView } from '../index.ts'

export {
  type ForkView,
  forkView,
  type LedgerSummary,
  ledgerSummary,
  type PathView,
  type PeerReceipts,
  peerReceipts,
  type ReceiptView,
  type ReputationView,
  reputationView,
  type VerifyView,
  verifyView,
} from '../index.ts'

export const targetParams = Type.Object({
  target: Type.String({ minLength: 1, maxLength: 256, description: 'A peer ID, a contact name or an identity ID' }),
})
export type TargetParams = Static<typeof targetParams>

export const receiptsQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, description: 'Receipts at most (newest first)' })),
})
export type ReceiptsQuery = Static<typeof receiptsQuery>

export const verifyBody = Type.Object(
  { peer: Type.String({ minLength: 1, maxLength: 256, description: 'A peer ID, or a contact with one device' }) },
  { additionalProperties: false },
)
export type VerifyBody = Static<typeof verifyBody>

export const reputationQuery = Type.Object({
  explain: Type.Optional(
    stringEnum(['true', 'false'], { description: 'true: add the paths the contribution flows along' }),
  ),
})
export type ReputationQuery = Static<typeof reputationQuery>

export const reputationList = Type.Object({
  peers: Type.Array(Type.Ref(reputationView), {
    description: 'Every peer with contribution either way; any other peer is a newcomer',
  }),
})
export type ReputationList = Static<typeof reputationList>

export const forksReply = Type.Object({ forks: Type.Array(Type.Ref(forkView)) })
export type ForksReply = Static<typeof forksReply>

export const ledgerSchemas = [receiptView, forkView, reputationView]
