/** The `ledger` section of config.json (docs/config.md, docs/protocols/ledger.md). */
import {
  DEFAULT_LEDGER_AGREEMENTS_PER_MINUTE,
  DEFAULT_LEDGER_ANNOUNCES_PER_MINUTE,
  DEFAULT_LEDGER_COUNT_WAIT_MS,
  DEFAULT_LEDGER_EXCHANGE_TIMEOUT_MS,
  DEFAULT_LEDGER_FLUSH_INTERVAL_MS,
  DEFAULT_LEDGER_FORKS_MAX,
  DEFAULT_LEDGER_GRAPH_EDGES,
  DEFAULT_LEDGER_INBOUND_STREAMS,
  DEFAULT_LEDGER_LIST_RECEIPTS,
  DEFAULT_LEDGER_MAX_HOPS,
  DEFAULT_LEDGER_PAGE_ENTRIES,
  DEFAULT_LEDGER_RATE_PEERS,
  DEFAULT_LEDGER_RECALL_ENTRIES,
  DEFAULT_LEDGER_RECEIPT_BYTES,
  DEFAULT_LEDGER_RECEIPT_INTERVAL_MS,
  DEFAULT_LEDGER_REPUTATION_REFRESH_MS,
  DEFAULT_LEDGER_REPUTATION_UNIT_BYTES,
  DEFAULT_LEDGER_REQUESTS_PER_MINUTE,
  DEFAULT_LEDGER_SEEN_HALVES,
  DEFAULT_LEDGER_SLACK_BYTES,
  DEFAULT_LEDGER_SYNC_ENTRIES,
  DEFAULT_LEDGER_SYNC_INTERVAL_MS,
  DEFAULT_LEDGER_SYNC_PEERS,
  DEFAULT_LEDGER_VERIFY_ENTRIES,
  LEDGER_PAGE_MAX,
} from '../core/constants.ts'
import { count, flag, millis, type Static, section } from '../core/settings.ts'

export const ledgerConfig = section('Contribution ledger: receipts both sides sign, fork proofs, reputation', {
  receiptBytes: count(
    'a receipt is proposed to a peer once this many bytes were given to it since its last one',
    DEFAULT_LEDGER_RECEIPT_BYTES,
    { minimum: 1 },
  ),
  receiptIntervalMs: millis(
    '...or once bytes given to it have waited this long for a receipt',
    DEFAULT_LEDGER_RECEIPT_INTERVAL_MS,
  ),
  exchangeTimeoutMs: millis(
    'a receipt exchange (dial, proposal, agreement) gives up after this',
    DEFAULT_LEDGER_EXCHANGE_TIMEOUT_MS,
  ),
  countWaitMs: millis(
    'a proposal that counts more than this node received waits this long for bytes still in flight before it is refused',
    DEFAULT_LEDGER_COUNT_WAIT_MS,
  ),
  slackBytes: count(
    'bytes given to a peer that its receipts may leave unacknowledged before it counts as not co-signing (served last)',
    DEFAULT_LEDGER_SLACK_BYTES,
  ),
  syncIntervalMs: millis(
    'the chains of counterparties are fetched, checked and searched for forks this often',
    DEFAULT_LEDGER_SYNC_INTERVAL_MS,
  ),
  syncPeers: count('counterparties whose chains are fetched per round', DEFAULT_LEDGER_SYNC_PEERS, { minimum: 1 }),
  syncEntries: count('entries of one chain fetched per round (the rest in later rounds)', DEFAULT_LEDGER_SYNC_ENTRIES, {
    minimum: 1,
  }),
  verifyEntries: count('entries `lateral ledger verify` fetches and checks at most', DEFAULT_LEDGER_VERIFY_ENTRIES, {
    minimum: 1,
  }),
  pageEntries: count('entries asked per chain page', DEFAULT_LEDGER_PAGE_ENTRIES, {
    minimum: 1,
    maximum: LEDGER_PAGE_MAX,
  }),
  graphEdges: count(
    'receipt-graph edges kept (those that touch this node or its counterparties)',
    DEFAULT_LEDGER_GRAPH_EDGES,
    { minimum: 16 },
  ),
  seenHalves: count('receipt halves of other devices remembered to catch forks', DEFAULT_LEDGER_SEEN_HALVES, {
    minimum: 16,
  }),
  recallEntries: count(
    "entries of this node's own chain whose halves are remembered at start",
    DEFAULT_LEDGER_RECALL_ENTRIES,
  ),
  forksMax: count('fork proofs kept', DEFAULT_LEDGER_FORKS_MAX, { minimum: 1 }),
  maxHops: count('hops of the paths along which reputation flows (1 or 2)', DEFAULT_LEDGER_MAX_HOPS, {
    minimum: 1,
    maximum: 2,
  }),
  reputationUnitBytes: count(
    "net contribution at which a peer's weight is halfway between a newcomer's and the highest",
    DEFAULT_LEDGER_REPUTATION_UNIT_BYTES,
    { minimum: 1 },
  ),
  reputationRefreshMs: millis(
    'a reputation table is used this long before it is computed again (when receipts changed)',
    DEFAULT_LEDGER_REPUTATION_REFRESH_MS,
  ),
  flushIntervalMs: millis(
    'byte counts and the receipt graph are written to disk this often',
    DEFAULT_LEDGER_FLUSH_INTERVAL_MS,
  ),
  listReceipts: count('receipts listed per counterparty at most', DEFAULT_LEDGER_LIST_RECEIPTS, { minimum: 1 }),
  inboundStreams: count('incoming ledger streams per connection', DEFAULT_LEDGER_INBOUND_STREAMS, { minimum: 1 }),
  requestsPerMinute: count(
    'ledger requests (proposals, chain pages) one peer may make per minute',
    DEFAULT_LEDGER_REQUESTS_PER_MINUTE,
    { minimum: 1 },
  ),
  agreementsPerMinute: count(
    'receipts this node co-signs per peer per minute (counts are cumulative: a refused one loses nothing)',
    DEFAULT_LEDGER_AGREEMENTS_PER_MINUTE,
    { minimum: 1 },
  ),
  announcesPerMinute: count(
    'receipt announcements by one device taken from gossip per minute',
    DEFAULT_LEDGER_ANNOUNCES_PER_MINUTE,
    { minimum: 1 },
  ),
  ratePeers: count('peers and devices whose request rates are remembered', DEFAULT_LEDGER_RATE_PEERS, { minimum: 1 }),
  announceReceipts: flag(
    'gossip each completed receipt (so that forks are caught by any peer that sees both halves)',
    true,
  ),
})
export type LedgerConfig = Static<typeof ledgerConfig>
