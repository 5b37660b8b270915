/**
 * The contribution ledger (docs/protocols/ledger.md): receipts both sides sign while blocks are
 * served, per-device hash chains anyone can fetch and verify, fork proofs, and a subjective,
 * Sybil-bounded reputation that orders upload turns. `node.ledger` reads and verifies; the
 * content service reports bytes and asks whom to serve first (core/contribution.ts).
 *
 * @example
 * ```ts
 * node.ledger.summary()                                   // head, length, per counterparty
 * await node.ledger.reputation('bob', { explain: true })  // standing, gave, took, paths
 * await node.ledger.verify('12D3KooW...')                 // fetch and check a chain
 * ```
 */
export { type LedgerConfig, ledgerConfig } from './config.ts'
export type { ProposalOutcome } from './exchange.ts'
export { type ForkProof, forkProof, verifyForkProof } from './fork-watch.ts'
export {
  Ledger,
  type LedgerComponents,
  type LedgerEvents,
  type LedgerIdentity,
  type Resolved,
} from './ledger.ts'
export {
  checkAgreement,
  RECEIPT_TYPE,
  type Receipt,
  type ReceiptHalf,
  type SignedHalf,
  signHalf,
  verifyHalf,
  verifyReceipt,
} from './receipt.ts'
export { type FlowGraph, ReceiptGraph } from './receipt-graph.ts'
export { computeReputation, explainReputation, type Flow, independentFlow } from './reputation.ts'
export { ledgerService } from './service.ts'
export { STANDINGS, type Standing, standingOf, weightOf } from './standing.ts'
export {
  type CounterpartyView,
  counterpartyView,
  type ForkView,
  forkView,
  type LedgerSummary,
  ledgerSummary,
  type PathView,
  type PeerReceipts,
  peerReceipts,
  type ReceiptView,
  type ReputationView,
  receiptView,
  reputationView,
  type VerifyView,
  verifyView,
} from './views.ts'
export { FORKS_TOPIC, LEDGER_PROTOCOL, RECEIPTS_TOPIC } from './wire.ts'
