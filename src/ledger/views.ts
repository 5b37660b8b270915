/** What the ledger answers (TypeBox): the API's schemas, the CLI's and the dashboard's types. */
import { type Static, Type } from '@sinclair/typebox'
import { SERVICE_KINDS } from '../core/contribution.ts'
import { stringEnum } from '../core/settings.ts'
import { STANDINGS } from './standing.ts'

const kind = stringEnum(SERVICE_KINDS, {
  description: 'blocks: content served; storage: content kept; mailbox: mail held',
})

export const receiptView = Type.Object(
  {
    seq: Type.Integer({ description: "Position of this node's half in its chain" }),
    cid: Type.String({ description: "CID of this node's half" }),
    peer: Type.String({ description: 'The counterparty device' }),
    identity: Type.Optional(Type.String({ description: "The counterparty's identity, as the receipt names it" })),
    kind,
    role: stringEnum(['proposed', 'agreed'], {
      description: 'proposed: this node gave and asked; agreed: it co-signed',
    }),
    given: Type.Integer({ description: 'Bytes this node gave the counterparty in all (cumulative)' }),
    received: Type.Integer({ description: 'Bytes this node received from it in all (cumulative)' }),
    held: Type.Optional(Type.Integer({ description: 'Bytes held for the counterparty (storage, mail)' })),
    at: Type.Number({ description: 'When this node signed its half, ms since epoch' }),
    confirmed: Type.Boolean({ description: 'Both halves signed (a proposal never agreed to is unconfirmed)' }),
    counterpartySeq: Type.Optional(Type.Integer({ description: "Position of the counterparty's half in its chain" })),
    counterpartyCid: Type.Optional(Type.String()),
  },
  { $id: 'LedgerReceipt' },
)
export type ReceiptView = Static<typeof receiptView>

export const kindTotalsView = Type.Object({
  kind,
  given: Type.Integer(),
  received: Type.Integer(),
  held: Type.Integer(),
})

export const counterpartyView = Type.Object({
  peer: Type.String(),
  identity: Type.Optional(Type.String()),
  given: Type.Integer({ description: 'Bytes this node gave it, all kinds, as co-signed' }),
  received: Type.Integer({ description: 'Bytes this node received from it, all kinds, as co-signed' }),
  held: Type.Integer({ description: 'Bytes this node holds for it now' }),
  kinds: Type.Array(kindTotalsView),
  receipts: Type.Integer({ description: 'Complete receipts' }),
  unconfirmed: Type.Integer({ description: 'Proposals of this node it never agreed to' }),
  lastAt: Type.Number(),
})
export type CounterpartyView = Static<typeof counterpartyView>

export const forkView = Type.Object(
  {
    offender: Type.String({ description: 'The device that signed two halves at one position' }),
    identity: Type.Optional(Type.String({ description: 'The identity both halves name' })),
    seq: Type.Integer(),
    halves: Type.Array(Type.String(), { description: 'CIDs of the two halves' }),
    at: Type.Number({ description: 'When this node learned it, ms since epoch' }),
    proof: Type.String({ description: 'The proof (DAG-CBOR { a, b }), base64: anyone can check it' }),
  },
  { $id: 'LedgerFork' },
)
export type ForkView = Static<typeof forkView>

export const ledgerSummary = Type.Object({
  peerId: Type.String(),
  identity: Type.Optional(Type.String()),
  head: Type.Optional(Type.Object({ seq: Type.Integer(), cid: Type.String() })),
  length: Type.Integer({ description: "Entries in this device's chain" }),
  unconfirmed: Type.Integer({ description: 'Proposals never agreed to' }),
  counterparties: Type.Array(counterpartyView),
  forks: Type.Array(Type.Ref(forkView)),
  graphEdges: Type.Integer({ description: 'Receipt-graph edges known (for reputation)' }),
})
export type LedgerSummary = Static<typeof ledgerSummary>

export const peerReceipts = Type.Object({
  target: Type.String({ description: 'What was asked: a peer ID, a contact or an identity' }),
  identity: Type.Optional(Type.String()),
  contact: Type.Optional(Type.String()),
  devices: Type.Array(Type.String()),
  receipts: Type.Array(Type.Ref(receiptView), { description: 'Newest first' }),
})
export type PeerReceipts = Static<typeof peerReceipts>

export const pathView = Type.Object({
  device: Type.String({ description: 'The device of the peer the path starts (gave) or ends (took) at' }),
  via: Type.Array(Type.String(), { description: 'Devices in between (none: direct)' }),
  bytes: Type.Number({ description: 'What the path carries' }),
  capacity: Type.Number({ description: 'What it could carry alone (its narrowest receipt)' }),
  shared: Type.Boolean({ description: 'Its last edge also carries other peers’ contribution' }),
})
export type PathView = Static<typeof pathView>

export const reputationView = Type.Object(
  {
    target: Type.String(),
    identity: Type.Optional(Type.String()),
    contact: Type.Optional(Type.String()),
    devices: Type.Array(Type.String()),
    standing: stringEnum(STANDINGS, {
      description:
        'refused: proven to fork; non-signer: will not co-sign what it received; free-rider: took more than it gave; newcomer; contributor',
    }),
    gave: Type.Number({ description: 'Contribution flowing from it to this node, bytes' }),
    took: Type.Number({ description: 'Contribution flowing from this node to it, bytes' }),
    score: Type.Number({ description: 'gave - took' }),
    weight: Type.Number({ description: 'Its share of upload turns under contention (1..16; a newcomer 4)' }),
    explanation: Type.Optional(Type.Object({ gave: Type.Array(pathView), took: Type.Array(pathView) })),
    fork: Type.Optional(Type.Ref(forkView)),
  },
  { $id: 'Reputation' },
)
export type ReputationView = Static<typeof reputationView>

export const verifyView = Type.Object({
  peer: Type.String(),
  length: Type.Integer({ description: 'Entries the chain claims' }),
  verified: Type.Integer({ description: 'Entries fetched and checked' }),
  complete: Type.Integer({ description: 'Complete receipts among them' }),
  unconfirmed: Type.Integer({ description: 'Proposals never agreed to' }),
  valid: Type.Boolean({ description: 'Every entry checked verified, and no fork is known' }),
  error: Type.Optional(Type.String({ description: 'The first entry that failed, and why' })),
  forks: Type.Array(Type.Ref(forkView), { description: 'Proofs against this device (found now or known)' }),
})
export type VerifyView = Static<typeof verifyView>
