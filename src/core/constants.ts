/** Defaults for every tunable, applied as `init.x ?? DEFAULT_X`. Documented in docs/config.md. */

export const AGENT_NAME = 'lateral'
export const VERSION = '0.1.0'
export const AGENT_VERSION = `${AGENT_NAME}/${VERSION}`

/** Protocol prefix of every Lateral wire protocol, DHT included. */
export const PROTOCOL_PREFIX = '/lateral'
export const DHT_PROTOCOL = `${PROTOCOL_PREFIX}/kad/1.0.0`

export const DEFAULT_TCP_PORT = 4001
export const DEFAULT_WS_PORT = 4002
export const DEFAULT_LISTEN = [`/ip4/0.0.0.0/tcp/${DEFAULT_TCP_PORT}`, `/ip4/0.0.0.0/tcp/${DEFAULT_WS_PORT}/ws`]
export const DEFAULT_API = '127.0.0.1:5980'
export const DEFAULT_MAX_CONNECTIONS = 300
export const DEFAULT_MAX_INCOMING_PENDING = 10
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000
/** Discovered peers are dialled while fewer than this many are connected. */
export const DEFAULT_AUTO_DIAL_TARGET = 50
/** Peers remembered in the peer store that are redialled at start. */
export const DEFAULT_RECONNECT_AT_START = 16
/** How often peers lost without a goodbye (a dropped link, a partition) are redialled, ms. */
export const DEFAULT_REDIAL_INTERVAL_MS = 30_000
/** How long a lost peer is redialled before it is given up, ms. */
export const DEFAULT_REDIAL_FOR_MS = 30 * 60_000
/** Lost peers remembered for redialling at once (the most recently lost kept). */
export const DEFAULT_MAX_LOST_PEERS = 64
/** How often mDNS asks the LAN for peers. */
export const DEFAULT_MDNS_INTERVAL_MS = 10_000
export const DEFAULT_PING_COUNT = 3
export const DEFAULT_PING_TIMEOUT_MS = 10_000

/** Yamux (measured with `npm run bench -- stack`; see docs/architecture.md). */
export const YAMUX_MAX_MESSAGE_SIZE = 64 * 1024
export const YAMUX_INITIAL_STREAM_WINDOW = 256 * 1024
export const YAMUX_MAX_STREAM_WINDOW = 16 * 1024 * 1024
/**
 * How long closing a TLS connection waits for its last bytes to go out when its caller set no
 * deadline (libp2p's own close gives 1 s): a peer that stops reading cannot hold it open longer.
 */
export const TLS_CLOSE_TIMEOUT_MS = 5_000

/** Keystore KDF: scrypt N = 2^17, r = 8, p = 1 (128 MiB, a few hundred ms). */
export const DEFAULT_SCRYPT_LOG_N = 17
export const DEFAULT_SCRYPT_R = 8
export const DEFAULT_SCRYPT_P = 1
/** Refuse headers that ask for more than this, so a tampered file cannot exhaust memory. */
export const MAX_SCRYPT_LOG_N = 22
export const MAX_SCRYPT_R = 32
export const MAX_SCRYPT_P = 16

/** Environment variables understood by every command. */
export const ENV_HOME = 'LATERAL_HOME'
export const ENV_PASSPHRASE = 'LATERAL_PASSPHRASE'

/** How long the SSE stream waits between keep-alive comments. */
export const EVENTS_HEARTBEAT_MS = 15_000
/** Daemon API (config.json "daemon", docs/config.md). */
export const DEFAULT_API_BODY_LIMIT = 1024 * 1024
export const DEFAULT_LOGIN_TTL_MS = 120_000
export const DEFAULT_LOGIN_CODES_MAX = 64
export const DEFAULT_DOWNLOAD_LINK_TTL_MS = 60_000
export const DEFAULT_DOWNLOAD_LINKS_MAX = 1024
export const DEFAULT_TOPIC_LOG_SIZE = 200
export const DEFAULT_BANDWIDTH_SAMPLES = 300
export const DEFAULT_TRANSFERS_KEPT = 100
export const DEFAULT_UPLOADS_OPEN = 16
export const DEFAULT_TRANSFER_PROGRESS_MS = 250
/**
 * The daemon's old generation may grow to (1 + this/100) x what survived its last full
 * collection before the next (V8's `--heap-growing-percent`; 0 leaves V8's own choice). V8's own
 * choice falls to 1.1x when marking looks cheap next to the heap allocation of a transfer, whose
 * bytes are mostly outside the heap: a full collection every ~100 ms (docs/architecture.md).
 */
export const DEFAULT_DAEMON_HEAP_GROWING_PERCENT = 100
/**
 * Bytes the daemon holds for one event stream (`/v1/events`) whose reader is behind; past this
 * the stream is ended with a `dropped` event. Bounds the memory one stalled reader costs.
 */
export const DEFAULT_EVENTS_CLIENT_BUFFER_BYTES = 4 * 1024 * 1024
/** How long an ended or dropped event stream may take to deliver what it holds before its socket is cut. */
export const DEFAULT_EVENTS_DROP_GRACE_MS = 10_000

/** Messaging (docs/protocols/topics.md, docs/protocols/dm.md). */
export const TOPIC_NAMESPACE = `${PROTOCOL_PREFIX}/topic/1/`
export const DM_PROTOCOL = `${PROTOCOL_PREFIX}/dm/1.0.0`
export const DEFAULT_TOPIC_MAX_BYTES = 64 * 1024
export const DEFAULT_DM_MAX_BYTES = 64 * 1024
export const DEFAULT_INBOX_CAP = 10_000
export const DEFAULT_OUTBOX_CAP = 1_000
export const DEFAULT_DM_BURST = 20
export const DEFAULT_DM_PER_MINUTE = 60
export const DM_RETRY_MIN_MS = 1_000
export const DM_RETRY_MAX_MS = 5 * 60_000
/** Messages dated further ahead than this are refused. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000
/** Content types are short ASCII strings like `text/plain`. */
export const MAX_CONTENT_TYPE_LENGTH = 100
/** Messages queued for one slow local reader of a topic before the oldest are dropped. */
export const TOPIC_READER_QUEUE = 1_000

/** Content (docs/protocols/blocks.md, docs/config.md): limits in bytes per second, 0 = unlimited. */
export const DEFAULT_CONTENT = {
  uploadLimit: 0,
  downloadLimit: 0,
  uploadSlots: 8,
  banAfter: 3,
  providerTimeoutMs: 60_000,
  blockTimeoutMs: 10_000,
  maxPeers: 32,
  providerSearchIntervalMs: 10_000,
  reprovideIntervalMs: 12 * 60 * 60_000,
} as const

/**
 * Streams (src/net/stream.ts): unsent bytes a stream may keep queued when a write resolves;
 * a writer that awaits its writes thus holds at most this plus one write per stream.
 */
export const DEFAULT_STREAM_WRITE_BUFFER_BYTES = 64 * 1024

/** Blocks server (src/content/swarm-server.ts): what one requester may cost a seeder. */
/** A block write to a requester that makes no progress for this long resets its stream, ms. */
export const DEFAULT_BLOCKS_WRITE_TIMEOUT_MS = 30_000
/** A served stream with no request received and nothing to send for this long is reset, ms. */
export const DEFAULT_BLOCKS_IDLE_TIMEOUT_MS = 60_000
/** Upload slots one peer may hold at once, across all its streams (of `uploadSlots`). */
export const DEFAULT_BLOCKS_PEER_SLOTS = 2
/**
 * Blocks one peer may have in the seeder's memory at once, across all its streams: read ahead
 * from disk, waiting for a slot, or written and not yet taken by the peer.
 */
export const DEFAULT_BLOCKS_PEER_IN_FLIGHT = 4
/**
 * The blocks server's read buffers (src/content/read-pool.ts): each holds one block of the
 * default 1 MiB chunking; at most this many free ones are kept, none once no block has been read
 * for the idle time.
 */
export const BLOCKS_READ_BUFFER_BYTES = 1024 * 1024
export const BLOCKS_READ_POOL_MAX_FREE = 16
export const BLOCKS_READ_POOL_IDLE_MS = 30_000
/** Blocks streams one connection may have open at once. */
export const DEFAULT_BLOCKS_MAX_INBOUND_STREAMS = 64

/** Direct messages (src/messaging/dm-*.ts, docs/protocols/dm.md): deadlines and bounds. */
/** Opening a stream to a recipient gives up after this long (the message stays queued), ms. */
export const DEFAULT_DM_OPEN_TIMEOUT_MS = 10_000
/** From writing an envelope to reading its ack; past it the message stays queued and is retried, ms. */
export const DEFAULT_DM_ACK_TIMEOUT_MS = 10_000
/** An incoming DM stream that sends nothing (or reads no ack) for this long is closed, ms. */
export const DEFAULT_DM_IDLE_TIMEOUT_MS = 30_000
/** Incoming DM streams one connection may have open at once. */
export const DEFAULT_DM_INBOUND_STREAMS = 32
/** Seen records (deduplication of retransmissions) kept per sender, newest first. */
export const DEFAULT_DM_SEEN_PER_SENDER = 64
/** Seen records kept in all; past it the oldest go first (down to 90 %). */
export const DEFAULT_DM_SEEN_CAP = 100_000
/** Sending peers whose rate-limit buckets are kept before idle ones are forgotten. */
export const DEFAULT_DM_RATE_LIMIT_PEERS = 10_000
/** Longest wait a recipient's `retryAfterMs` (rate limit) can impose on the sender, ms. */
export const DM_RETRY_AFTER_MAX_MS = 60_000

/** Content routing and downloads (src/content/announcer.ts, provider-lookup.ts). */
/** DHT announcements (provide queries) a reprovide runs at once; the other pins wait their turn. */
export const DEFAULT_REPROVIDE_CONCURRENCY = 4
/** One announcement of a root in the DHT gives up after this long (retried at the next reprovide), ms. */
export const DEFAULT_PROVIDE_TIMEOUT_MS = 60_000
/** `providers` asks connected peers and the DHT for this long unless told otherwise, ms. */
export const DEFAULT_PROVIDERS_TIMEOUT_MS = 10_000

/** Download sessions (src/content/session-peer.ts, scheduler.ts, swarm-session.ts, docs/protocols/blocks.md). */
/** Requests a peer newly joined to a download is given before its rate is measured. */
export const DEFAULT_WINDOW_INITIAL = 8
/** Fewest requests outstanding to one peer once its rate is measured (timeouts halve below it until it answers). */
export const DEFAULT_WINDOW_MIN = 8
/** Most requests outstanding to one peer: bounds a download's memory to this many blocks per peer. */
export const DEFAULT_WINDOW_MAX = 32
/**
 * A peer's request window covers at least this long of its measured rate (as BitTorrent clients
 * keep seconds of requests queued), within windowMin..windowMax: its shortest round trip alone
 * left a 250 MiB/s peer on a LAN with 8 blocks in flight and idle at every hiccup. One seeder on
 * loopback, 256 MiB gets: 173-228 MiB/s at 100 ms, 231-298 at 300 ms (windows of 32).
 */
export const REQUEST_QUEUE_MS = 300
/** Largest `windowMax` accepted: keeps an honest downloader far below what a server queues per stream. */
export const WINDOW_MAX_LIMIT = 1024
/** Timeouts in a row after which a peer leaves a download (its requests already went to others). */
export const DEFAULT_TIMEOUTS_BEFORE_DROP = 3
/** Wanted blocks, in DAG order, among which the rarest are picked for each peer (bounds the scan per pick). */
export const DEFAULT_RAREST_FIRST_SCAN = 256
/** Peers asked for the same block at once in the end-game (1 = no duplicate requests). */
export const DEFAULT_END_GAME_DUPLICATES = 3
/** Received blocks (already verified) being written to the store at once; the peers' streams wait beyond it (memory bound). */
export const DEFAULT_STORE_QUEUE = 16
/**
 * Closing a downloader's blocks stream waits this long for the other side to see the end, then
 * aborts it, ms: a courtesy that bounds how long a finished session holds its streams.
 */
export const BLOCKS_CLOSE_GRACE_MS = 1_000

/** Identity (docs/protocols/identity.md). */
export const DEFAULT_CONTACTS_MAX = 10_000

/** Device pairing (src/identity/pairing/, docs/protocols/pairing.md). */
/** How long a pairing code stays valid after the new device made it, ms (10 minutes). */
export const DEFAULT_PAIRING_CODE_TTL_MS = 600_000
/** Multiaddrs a pairing code carries at most (each adds 20 to 60 characters to the code). */
export const DEFAULT_PAIRING_CODE_MAX_ADDRESSES = 3
/** Longest multiaddr (without its /p2p/ suffix) a pairing code carries; longer ones are left out. */
export const PAIRING_CODE_MAX_ADDRESS_CHARS = 128
/** Longest pairing code text; decoders refuse a longer one before decoding anything. */
export const PAIRING_CODE_MAX_CHARS = 1024
/** Codes a new device keeps waiting at once (made, not yet used or expired); past it the oldest is dropped. */
export const DEFAULT_PAIRING_MAX_PENDING_CODES = 8
/** Each handshake message (hello, commit, reveal, key confirmation) must arrive within this long, ms. */
export const DEFAULT_PAIRING_STEP_TIMEOUT_MS = 15_000
/** How long each person has to compare and confirm the short string, and to see the other confirm, ms. */
export const DEFAULT_PAIRING_CONFIRM_TIMEOUT_MS = 180_000
/** Making and receiving each of the offer, join and welcome payloads, and the final ack, ms. */
export const DEFAULT_PAIRING_PAYLOAD_TIMEOUT_MS = 60_000
/** Largest offer, join or welcome payload, bytes (the welcome carries the identity log). */
export const DEFAULT_PAIRING_MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
/** Largest handshake frame (every message but offer, join and welcome), bytes: fixed by the protocol. */
export const PAIRING_HANDSHAKE_MAX_FRAME_BYTES = 1024
/** Pairing streams one connection may have open at once. */
export const DEFAULT_PAIRING_INBOUND_STREAMS = 2
/**
 * Ending a pairing stream (the last message or an abort, then the close) waits this long for the
 * other side, then resets the stream, ms: a courtesy that bounds how long a finished pairing holds it.
 */
export const PAIRING_CLOSE_GRACE_MS = 1_000
/** A whole identity log exchange (ask, every frame) gives up after this. */
export const DEFAULT_IDENTITY_SYNC_TIMEOUT_MS = 20_000
/** Entries one identity log may hold. */
export const DEFAULT_LOG_MAX_ENTRIES = 4096

/** Identity log (src/identity/log/, docs/protocols/identity.md "Log"). */
/**
 * Largest identity log entry accepted or written, bytes, checked before decoding (did:plc caps an
 * operation at 7.5 KB). A node set lower refuses logs that others accept; higher gains nothing.
 */
export const DEFAULT_IDENTITY_ENTRY_MAX_BYTES = 8 * 1024
/** Entries held while their parents are unknown (per log); past it the oldest is dropped (and fetched again if needed). */
export const DEFAULT_IDENTITY_PENDING_MAX = 256
/**
 * Largest join record (signed by a new device, embedded in its addDevice entry), bytes. Fixed by
 * the protocol: a join record names one device, so it is far below this.
 */
export const IDENTITY_JOIN_MAX_BYTES = 1024
/** Parents (`prev`) one entry names, 1 to this many. Fixed by the protocol. */
export const IDENTITY_MAX_PREV = 8
/**
 * Current devices an identity may have: an addDevice past it is void. Fixed by the protocol (every
 * peer must compute the same state), and small enough for a rotateDataKey entry, which seals the
 * key to each device (about 190 bytes each), to stay under the entry size bound.
 */
export const IDENTITY_MAX_DEVICES = 32
/** Device and display names: 1 to this many Unicode code points (NFC, no control characters). */
export const IDENTITY_NAME_MAX_CHARS = 64
/** A removal's reason text: at most this many code points. */
export const IDENTITY_REASON_MAX_CHARS = 200
/** Head announcements of this node's identity log, besides every change and every new connection. */
export const DEFAULT_IDENTITY_ANNOUNCE_MS = 30_000
/**
 * Another identity's log is asked of connected peers (`refresh`: a recipient whose devices are
 * away) at most this often per identity.
 */
export const DEFAULT_IDENTITY_REFRESH_GAP_MS = 10_000
/** Connected peers one refresh asks at most (the identity's devices first, then its mailboxes). */
export const IDENTITY_REFRESH_PEERS = 4
/** A refresh waits this long at most for the peers' answers; later ones are still merged. */
export const IDENTITY_REFRESH_WAIT_MS = 5_000
/** Identities whose last refresh time is remembered (for the rate limit); the oldest are forgotten. */
export const IDENTITY_REFRESH_REMEMBERED = 1024
/** Other people's identity logs kept at most (contacts' and those of devices met). */
export const DEFAULT_KNOWN_IDENTITIES = 1_000

/** Delegation: UCAN 1.0 tokens (src/delegation/ucan/, docs/protocols/delegation.md). */
/** Clock skew allowed on the `nbf`/`exp` of delegations and invocations, seconds (UCAN recommends ±60 s). */
export const DEFAULT_UCAN_CLOCK_SKEW_S = 60
/** Largest delegation envelope accepted or signed, bytes, checked before decoding. */
export const DEFAULT_UCAN_DELEGATION_MAX_BYTES = 16 * 1024
/** Largest invocation (or revocation) envelope accepted or signed, `args` included, bytes. */
export const DEFAULT_UCAN_INVOCATION_MAX_BYTES = 64 * 1024
/** Delegations one chain may hold: an invocation's proofs, a revocation's path, a held grant. */
export const DEFAULT_UCAN_MAX_CHAIN = 16
/** Nesting depth of a policy (statements inside `not`, `and`, `or`, `all`, `any`). */
export const DEFAULT_UCAN_POLICY_MAX_DEPTH = 16
/** Statements one policy may hold, nested ones included. */
export const DEFAULT_UCAN_POLICY_MAX_STATEMENTS = 256
/** Steps one policy evaluation may take (statements applied, selector segments, elements visited); past it the policy fails. */
export const DEFAULT_UCAN_POLICY_MAX_STEPS = 100_000
/** Lifetime Lateral gives an invocation it signs when the caller names no `exp`, seconds. */
export const DEFAULT_UCAN_INVOCATION_TTL_S = 300
/**
 * An invocation must expire within this long after now (plus the skew), seconds; a later or null
 * `exp` is refused, so that the record of seen invocations (replay) can forget each one at its `exp`.
 */
export const DEFAULT_UCAN_INVOCATION_MAX_TTL_S = 900
/** Invocation CIDs the in-memory replay guard holds (each until its `exp`); when all are unexpired, new invocations are refused. */
export const DEFAULT_UCAN_REPLAY_MAX_ENTRIES = 100_000
/** Nonce Lateral puts in the delegations and invocations it signs, bytes. */
export const UCAN_NONCE_BYTES = 16
/** Largest nonce accepted, bytes. Fixed by the protocol. */
export const UCAN_NONCE_MAX_BYTES = 64
/** Longest command (`/store/put`) accepted, characters. Fixed by the protocol. */
export const UCAN_COMMAND_MAX_CHARS = 256
/** Longest policy selector (`.a.b[0]`) accepted, characters. Fixed by the protocol. */
export const UCAN_SELECTOR_MAX_CHARS = 256

/** The delegation service (src/delegation/, docs/protocols/delegation.md). */
/** Delegations (given, received and proofs) a node keeps; a grant past it is refused. */
export const DEFAULT_DELEGATIONS_MAX = 10_000
/** Revocations a node keeps (they are accepted before the delegation they name arrives). */
export const DEFAULT_REVOCATIONS_MAX = 10_000
/** How often held grants are checked again for expiry and for removed devices, ms. */
export const DEFAULT_DELEGATION_SWEEP_MS = 10_000
/** A delegation protocol exchange (one request, one answer) gives up after this, ms. */
export const DEFAULT_DELEGATION_TIMEOUT_MS = 15_000
/** How long a grant's receiver waits for the subject identity's log before judging the grant, ms. */
export const DEFAULT_DELEGATION_LOG_WAIT_MS = 10_000
/** Grants one identity may have given this node and kept here at once: one subject never fills the store. */
export const DEFAULT_DELEGATIONS_PER_SUBJECT = 64
/** Revocations kept per revoker: one signer never fills the revocation store. */
export const DEFAULT_REVOCATIONS_PER_REVOKER = 256
/** Largest delegation protocol frame: a chain of 16 delegations of 16 KiB plus a revocation. */
export const DELEGATION_FRAME_MAX_BYTES = 320 * 1024
/** Verified delegations a `createDelegationCache` keeps by CID (least recently used first out), so a chain used again skips its signature checks. */
export const DEFAULT_UCAN_VERIFIED_CACHE_ENTRIES = 1_024

/** Mailboxes (src/mailbox/, docs/protocols/mailbox.md): peers that hold sealed direct messages for an identity. */
export const MAILBOX_PROTOCOL = `${PROTOCOL_PREFIX}/mailbox/1.0.0`
/**
 * Largest envelope a mailbox takes or a device reads from one, bytes: a direct message of
 * `messaging.dmMaxBytes` plus the envelope's own fields (4096, as dm-envelope.ts allows).
 */
export const DEFAULT_MAILBOX_ENVELOPE_MAX_BYTES = DEFAULT_DM_MAX_BYTES + 4096
/** Largest request, answer or acknowledgement frame on `/lateral/mailbox/1.0.0`, bytes. Fixed by the protocol. */
export const MAILBOX_CONTROL_MAX_BYTES = 1024
/** Bytes a mailbox holds for one identity when its `/msg/deposit` grant sets no quota. */
export const DEFAULT_MAILBOX_QUOTA_BYTES = 64 * 1024 * 1024
/** Bytes a mailbox holds for all identities together (each also within its own quota). */
export const DEFAULT_MAILBOX_MAX_BYTES = 1024 * 1024 * 1024
/** Messages a mailbox holds for one identity. */
export const DEFAULT_MAILBOX_MAX_MESSAGES_PER_IDENTITY = 10_000
/** Messages a mailbox holds for all identities together (bounds its in-memory index). */
export const DEFAULT_MAILBOX_MAX_MESSAGES = 100_000
/** Share of one identity's quota (bytes and messages) that one sender may fill, percent: a flooding sender leaves room for others. */
export const DEFAULT_MAILBOX_SENDER_SHARE_PERCENT = 25
/** How long a mailbox keeps a message that no device collected, ms (7 days). */
export const DEFAULT_MAILBOX_MESSAGE_TTL_MS = 7 * 24 * 60 * 60_000
/** After the `/msg/deposit` grant expires, the mail still held is kept this long for a late renewal, ms (24 h). A revoked grant drops it at once. */
export const DEFAULT_MAILBOX_LAPSE_GRACE_MS = 24 * 60 * 60_000
/** How often a mailbox drops expired messages and the mail of lapsed grants or removed devices, ms. */
export const DEFAULT_MAILBOX_SWEEP_INTERVAL_MS = 60_000
/** How often a device collects from its mailboxes besides at start, on connecting to one, and when told of new mail, ms. */
export const DEFAULT_MAILBOX_COLLECT_INTERVAL_MS = 10 * 60_000
/** Opening a stream to a mailbox (deposit, collect) or to a device (notify) gives up after this long, ms. */
export const DEFAULT_MAILBOX_OPEN_TIMEOUT_MS = 10_000
/** A mailbox stream on which the other side sends nothing it owes (a request, an envelope, an answer) for this long is closed, ms. */
export const DEFAULT_MAILBOX_IDLE_TIMEOUT_MS = 30_000
/** Incoming mailbox streams one connection may have open at once. */
export const DEFAULT_MAILBOX_INBOUND_STREAMS = 8

/** Delegated storage (src/storage/, docs/protocols/storage.md). */
/** Mean time between two storage challenges of one copy, ms; each wait is drawn from an exponential distribution. */
export const DEFAULT_STORAGE_CHECK_MEAN_MS = 6 * 60 * 60 * 1000
/** Challenges an owner precomputes per copy at put time (while it has the bytes); past them it asks for whole blocks. */
export const DEFAULT_STORAGE_CHALLENGE_POOL = 32
/** Bytes one precomputed challenge hashes at most (a random range of a random block); also the most a keeper hashes for one. */
export const DEFAULT_STORAGE_CHALLENGE_RANGE_BYTES = 64 * 1024
/** How long a copy is still kept after its grant expired, so that a late renewal loses nothing, ms. */
export const DEFAULT_STORAGE_EXPIRY_GRACE_MS = 24 * 60 * 60 * 1000
/** How often kept copies are judged against their grants (expiry and grace, revocation, lost pins), ms. */
export const DEFAULT_STORAGE_SWEEP_MS = 60_000
/** A keeper's fetch of a DAG it was asked to keep gives up after this, ms. */
export const DEFAULT_STORAGE_FETCH_TIMEOUT_MS = 60 * 60 * 1000
/** An owner waits this long for the answer to a put (the keeper fetches the whole DAG first), ms. */
export const DEFAULT_STORAGE_PUT_TIMEOUT_MS = 65 * 60 * 1000
/** A check or drop exchange (dial, request, answer) gives up after this, ms. */
export const DEFAULT_STORAGE_REQUEST_TIMEOUT_MS = 30_000
/** Bytes this node keeps for other identities in all, whatever their grants say. */
export const DEFAULT_STORAGE_KEPT_MAX_BYTES = 64 * 1024 ** 3
/** Bytes this node keeps for one identity at most, whatever its grant says (a fair share of the above). */
export const DEFAULT_STORAGE_SUBJECT_MAX_BYTES = 16 * 1024 ** 3
/** Copies (roots) this node keeps for one identity at most: bounds the records when DAGs are tiny. */
export const DEFAULT_STORAGE_SUBJECT_MAX_COPIES = 10_000
/** Copies this node has placed with others at most (each record holds its challenge pool). */
export const DEFAULT_STORAGE_PLACED_MAX = 10_000
/** Puts one peer may have in progress at once on a keeper (each a fetch). */
export const DEFAULT_STORAGE_PUTS_PER_PEER = 2
/** Fetches a keeper runs for others at once; a put past it is refused as busy. */
export const DEFAULT_STORAGE_FETCHES = 4
/** Storage requests (checks, drops, puts) one peer may send per minute; its burst is the same number. */
export const DEFAULT_STORAGE_REQUESTS_PER_MINUTE = 60
/** Peers whose request rate is remembered; past it the idlest are forgotten. */
export const DEFAULT_STORAGE_RATE_PEERS = 1_024
/** Storage protocol streams one connection may have open at once. */
export const DEFAULT_STORAGE_INBOUND_STREAMS = 8
/** Largest whole-block proof (the blocks from the root to the chosen block) sent or accepted, bytes. */
export const DEFAULT_STORAGE_PROOF_MAX_BYTES = 16 * 1024 * 1024
/** Answers to checks remembered per placed copy (newest kept). */
export const DEFAULT_STORAGE_CHECK_HISTORY = 16
/** Steps of a challenge's walk from the root to a block, at most. Fixed by the protocol. */
export const STORAGE_WALK_MAX_STEPS = 32
/** Bytes of a challenge nonce. Fixed by the protocol. */
export const STORAGE_NONCE_BYTES = 16

/** Contribution ledger (src/ledger/, docs/protocols/ledger.md). */
/** Largest receipt half accepted, bytes (an honest one is about 350). Fixed by the protocol. */
export const RECEIPT_MAX_BYTES = 1024
/** Largest `/lateral/ledger/1.0.0` frame (a chain page is the largest), bytes. Fixed by the protocol. */
export const LEDGER_FRAME_MAX_BYTES = 256 * 1024
/** Entries one chain page holds at most. Fixed by the protocol. */
export const LEDGER_PAGE_MAX = 128
/** A receipt is proposed to a peer once this many bytes were given to it since its last receipt. */
export const DEFAULT_LEDGER_RECEIPT_BYTES = 8 * 1024 * 1024
/** ...or once bytes given to it have waited this long for a receipt, ms. */
export const DEFAULT_LEDGER_RECEIPT_INTERVAL_MS = 30_000
/** A receipt exchange (dial, proposal, agreement) gives up after this, ms. */
export const DEFAULT_LEDGER_EXCHANGE_TIMEOUT_MS = 10_000
/** A counterparty whose own count is behind a proposal waits this long for the bytes still in flight, ms. */
export const DEFAULT_LEDGER_COUNT_WAIT_MS = 2_000
/** Bytes given to a peer that its receipts may leave unacknowledged before it counts as not co-signing. */
export const DEFAULT_LEDGER_SLACK_BYTES = 4 * 1024 * 1024
/** How often the chains of counterparties are fetched, checked and searched for forks, ms. */
export const DEFAULT_LEDGER_SYNC_INTERVAL_MS = 60_000
/** Counterparties whose chains are fetched per sync round (the least recently fetched first). */
export const DEFAULT_LEDGER_SYNC_PEERS = 8
/** Entries of one peer's chain fetched per sync round (the rest in later rounds). */
export const DEFAULT_LEDGER_SYNC_ENTRIES = 1_024
/** Entries `ledger verify` fetches and checks at most. */
export const DEFAULT_LEDGER_VERIFY_ENTRIES = 100_000
/** Entries asked per chain page (at most LEDGER_PAGE_MAX). */
export const DEFAULT_LEDGER_PAGE_ENTRIES = 64
/** Receipt-graph edges kept (only those that touch this node or its counterparties are taken). */
export const DEFAULT_LEDGER_GRAPH_EDGES = 100_000
/** Receipt halves of other devices remembered to catch forks (the oldest are forgotten first). */
export const DEFAULT_LEDGER_SEEN_HALVES = 20_000
/** Fork proofs kept. */
export const DEFAULT_LEDGER_FORKS_MAX = 1_000
/** Hops of the paths along which reputation flows (1 or 2; BarterCast uses 2). */
export const DEFAULT_LEDGER_MAX_HOPS = 2
/** Net contribution at which a peer's weight is halfway between a newcomer's and the highest, bytes. */
export const DEFAULT_LEDGER_REPUTATION_UNIT_BYTES = 16 * 1024 * 1024
/** A reputation table is used this long before it is computed again (when receipts changed), ms. */
export const DEFAULT_LEDGER_REPUTATION_REFRESH_MS = 1_000
/** Ledger streams one connection may have open at once. */
export const DEFAULT_LEDGER_INBOUND_STREAMS = 4
/** Ledger requests (proposals, chain pages) one peer may make per minute; its burst is the same number. */
export const DEFAULT_LEDGER_REQUESTS_PER_MINUTE = 1_200
/** Receipts this node co-signs per peer per minute; counts are cumulative, so a refused one loses nothing. */
export const DEFAULT_LEDGER_AGREEMENTS_PER_MINUTE = 120
/** Receipt announcements by one device taken per minute from gossip; more are ignored. */
export const DEFAULT_LEDGER_ANNOUNCES_PER_MINUTE = 120
/** Peers and devices whose request and announcement rates are remembered; past it the idlest are forgotten. */
export const DEFAULT_LEDGER_RATE_PEERS = 1_024
/** Weights of upload turns under contention (core/contribution.ts): the lowest (free-riders, peers that will not co-sign), a newcomer's, and the highest (large contributors). */
export const LEDGER_WEIGHT_MIN = 1
export const LEDGER_WEIGHT_NEWCOMER = 4
export const LEDGER_WEIGHT_MAX = 16

/** Recovery through guardians (src/identity/recovery/, docs/protocols/recovery.md). */
/** The delay a recovery waits for a veto, and a guardian change before it counts, by default: 72 h. */
export const DEFAULT_RECOVERY_DELAY_MS = 72 * 3_600_000
/** The shortest delay this node lets its person set (the protocol accepts down to 1 s). */
export const DEFAULT_RECOVERY_MIN_DELAY_MS = 3_600_000
/** A recovery request code works for this long. */
export const DEFAULT_RECOVERY_CODE_TTL_MS = 24 * 3_600_000
/** One recovery exchange with a peer gives up after this. */
export const DEFAULT_RECOVERY_TIMEOUT_MS = 15_000
/** How often the ledger writes its byte counts and receipt graph to the datastore, ms. */
export const DEFAULT_LEDGER_FLUSH_INTERVAL_MS = 10_000
/** Entries of this node's own chain whose halves are remembered at start to catch forks. */
export const DEFAULT_LEDGER_RECALL_ENTRIES = 1_000
/** Receipts listed per counterparty by the API and `lateral ledger PEER`, unless asked for fewer. */
export const DEFAULT_LEDGER_LIST_RECEIPTS = 200

/** Across NATs (src/net/relay-*.ts, src/net/reachability.ts, docs/reachability.md). */
/** Relay reservations a node behind NAT keeps (on distinct relays), so losing one relay leaves another way in. */
export const DEFAULT_RELAY_RESERVATIONS = 2
/** Reservations a relay server holds at once, for all peers together (libp2p's default: 15). */
export const DEFAULT_RELAY_MAX_RESERVATIONS = 15
/** How long a reservation on a relay server lasts before the client must renew it (libp2p's default: 2 h). */
export const DEFAULT_RELAY_RESERVATION_TTL_MS = 2 * 3_600_000
/**
 * How long one relayed connection may stay open on a relay server. libp2p's default is 2 min;
 * longer here so a relayed peer can be messaged and fetch a small file while DCUtR tries direct.
 */
export const DEFAULT_RELAY_DURATION_LIMIT_MS = 10 * 60_000
/**
 * Bytes one relayed connection may carry (both ways) on a relay server before it is reset.
 * libp2p's default, 128 KiB, cannot carry a small file; 0 means no limit (a relay that allows bulk).
 */
export const DEFAULT_RELAY_DATA_LIMIT_BYTES = 8 * 1024 * 1024
/** How long a DCUtR hole-punch attempt (the synchronised dial) may take before it counts as failed. */
export const DEFAULT_DCUTR_TIMEOUT_MS = 5_000
/** How long an AutoNAT dial-back request may take before the helper is given up on. */
export const DEFAULT_AUTONAT_TIMEOUT_MS = 15_000
/** A peer whose upload turn just ended keeps its place in the weighted upload queue this long, ms: its next block reaches the queue a moment after (src/content/weighted-slots.ts). */
export const WEIGHTED_REJOIN_MS = 20
/** Relays tried, one after another, when a peer dialled by its ID alone cannot be reached directly. */
export const DEFAULT_RELAY_DIAL_ATTEMPTS = 3
/** Observations of our address by peers (identify) kept for the NAT diagnosis, newest first. */
export const DEFAULT_OBSERVED_ADDRESSES = 32
/**
 * Bytes of blocks the filesystem blockstore writes between two checkpoints (a sync of the file
 * system, after which its journal is emptied): what a machine crash can cost, and at most what
 * the next start re-hashes (src/store/blockstore.ts).
 */
export const DEFAULT_BLOCKSTORE_CHECKPOINT_BYTES = 32 * 1024 * 1024
/**
 * Files of deleted blocks the filesystem blockstore keeps, emptied, to write new blocks into
 * instead of creating files (src/store/blockstore.ts): an empty file each, no data.
 */
export const DEFAULT_BLOCKSTORE_SPARE_FILES = 1024
/**
 * Page-aligned buffers of the filesystem blockstore's direct writes (src/store/blockstore.ts),
 * each as large as the default chunk: how many such writes may be under way at once (8 MiB).
 */
export const DEFAULT_BLOCKSTORE_DIRECT_SLOTS = 8
/** Bytes of each of those buffers: the default chunk (1 MiB); larger blocks are written through the page cache. */
export const BLOCKSTORE_DIRECT_SLOT_BYTES = 1024 * 1024
/**
 * Worker threads that hash the blocks a download receives or an import reads, in the direct
 * writes' buffers while they are written (src/store/slot-hasher.ts), so the event loop neither
 * hashes nor copies them again (config `content.hashThreads`). A worker costs ~15 MiB of RSS once
 * started; 0 = hashed on the libuv pool through WebCrypto, which copies each block once more
 * (`add` of 1 GiB: 0.66-0.70 x SHA-256 against 0.72-0.91 x with the worker, same machine).
 */
export const DEFAULT_BLOCKSTORE_HASH_THREADS = 1
/**
 * A hash worker that died is replaced at the next block after this pause, ms; the pause doubles
 * with each death in a row, up to HASH_WORKER_RESTART_MAX_MS (a worker that ran that long resets
 * the count). Meanwhile blocks are hashed by the store's caller, as before the workers started.
 */
export const HASH_WORKER_RESTART_MS = 1000
export const HASH_WORKER_RESTART_MAX_MS = 5 * 60 * 1000
/** Simulated links (src/net/sim-fabric.ts): a lost chunk is retransmitted after this long, ms (Linux's minimum TCP RTO). */
export const DEFAULT_SIM_RTO_MS = 200
/**
 * Smallest time one DHT request to one peer (dial, send, answer) may take before it counts as
 * failed; kad-dht raises it from measured response times. A dead peer holds a query slot this
 * long. kad-dht's own default is 5 s (docs/resilience.md measures the effect).
 */
export const DEFAULT_DHT_RPC_MIN_TIMEOUT_MS = 5_000
/**
 * Largest timeout of one DHT request. kad-dht counts each failed request as twice its time in
 * the average its timeout follows (x 1.2), so after a few dead peers every request of the node
 * may wait up to this long, and each dead peer holds a walk's slot that long (docs/resilience.md).
 * kad-dht's own default is 60 s.
 */
export const DEFAULT_DHT_RPC_MAX_TIMEOUT_MS = 60_000
/** Direct-connection attempts per relayed peer (src/net/direct-upgrade.ts), beyond DCUtR's own one, before waiting for news of its addresses. */
export const DEFAULT_DIRECT_UPGRADE_ATTEMPTS = 4
/** Wait before the first direct attempt after a relayed connection opens (DCUtR's own attempt goes first), doubled after each failure, ms. */
export const DEFAULT_DIRECT_UPGRADE_BACKOFF_MS = 2_000
/** How long one direct dial of a relayed peer's public address may take, ms. */
export const DEFAULT_DIRECT_UPGRADE_TIMEOUT_MS = 10_000
/** Once a direct connection exists, a relayed one to the same peer is closed when it carries no Lateral stream, or after this long at most, ms. */
export const DEFAULT_RELAYED_CLOSE_GRACE_MS = 30_000
/** How often a relayed connection waiting to close is checked for open streams, ms. */
export const DEFAULT_RELAYED_CLOSE_CHECK_MS = 500
/** Goodbye (src/net/auto-dial.ts, docs/protocols/bye.md): a stopping node tells its peers, who then do not redial it. */
export const BYE_PROTOCOL = `${PROTOCOL_PREFIX}/bye/1.0.0`
/** How long a stopping node spends telling its peers goodbye, at most, ms. */
export const BYE_TIMEOUT_MS = 1_000
/** Peers told goodbye when a node stops (those connected longest first); the rest are not told. */
export const BYE_MAX_PEERS = 64
/** After a goodbye (said by a peer, or ours when hanging up on it), a close that ends in an error is still not a loss, for this long, ms. */
export const BYE_GRACE_MS = 10_000
/** TCP hole punching between two NATed peers (src/net/tcp-punch.ts, docs/protocols/punch.md): the protocol over the relayed connection. */
export const PUNCH_PROTOCOL = `${PROTOCOL_PREFIX}/punch/1.0.0`
/** Largest punch message accepted from a peer, bytes. */
export const PUNCH_MAX_MESSAGE_BYTES = 256
/** How long one punch (exchange over the relay, then simultaneous TCP connects) may take, ms. */
export const DEFAULT_PUNCH_TIMEOUT_MS = 10_000
/** Wait after a relayed connection opens before the first punch (DCUtR and a direct dial go first), ms. */
export const DEFAULT_PUNCH_DELAY_MS = 1_000
/** Punches tried per relayed connection, a backoff of the delay doubled between them. */
export const DEFAULT_PUNCH_ATTEMPTS = 3
/** Between two connects of the punch from the same port, after a refusal, ms. */
export const PUNCH_RECONNECT_MS = 200
/** Punches answered at once, for all peers together (each holds a TCP port and a timer). */
export const DEFAULT_PUNCH_MAX_CONCURRENT = 4
/** Hop streams (relayed circuits being made or running, reservations being made) one peer may hold on this relay at once; beyond it its requests are refused. */
export const DEFAULT_RELAY_MAX_CIRCUITS_PER_PEER = 4
/** Reservations this relay holds for peers connected from one IP address (many peer IDs behind one host count as one). */
export const DEFAULT_RELAY_MAX_RESERVATIONS_PER_IP = 4

/**
 * libp2p's random walk (relay discovery, AutoNAT's search for peers) runs DHT lookups for random
 * keys back to back; on a network of a few peers each one asks the same peers again, hundreds of
 * streams a second (src/net/random-walk-pace.ts). Lookups start at least this far apart...
 */
export const RANDOM_WALK_MIN_INTERVAL_MS = 1_000
/** ...and, while lookups find no peer the walk had not seen, twice as far apart each time up to this. */
export const RANDOM_WALK_MAX_INTERVAL_MS = 60_000
/** Peers the pacing remembers as seen by the walk (the oldest forgotten first). */
export const RANDOM_WALK_SEEN_PEERS = 1_000

/** Hostile peers (src/net/peer-guard.ts, docs/resilience.md). */
/** Penalty points (decaying, half-life PENALTY_HALF_LIFE_MS) at which a peer is disconnected and banned; gossipsub graylists at 8. */
export const DEFAULT_BAN_PENALTY = 20
/** How long a banned peer is refused (dials both ways, by the connection gater), ms. */
export const DEFAULT_BAN_MS = 10 * 60_000
/**
 * How long a peer this node hung up on (net.disconnect, `lateral disconnect`) is refused both
 * ways, ms, unless the user connects to it again; without it the DHT's next query redialled it
 * within a second (test/net-redial.test.ts).
 */
export const DEFAULT_HANG_UP_HOLD_MS = 10 * 60_000
/** Bans (and hang-up holds) remembered at once; past it the one that expires first is dropped. */
export const DEFAULT_MAX_BANS = 10_000
/** Inbound streams a peer may open at once (all protocols, all its connections) before its rate counts... */
export const DEFAULT_PEER_STREAM_BURST = 128
/** ...and per second after that; a stream beyond it is reset and costs EXCESS_STREAM_PENALTY. */
export const DEFAULT_PEER_STREAMS_PER_SECOND = 32
/** Penalty points per stream reset for exceeding a peer's stream rate (80 excess streams ban at the default threshold). */
export const EXCESS_STREAM_PENALTY = 0.25
/** An inbound connection costs this many streams of its peer's stream rate (handshakes cost more than streams). */
export const CONNECTION_STREAM_COST = 16
/** Connections one peer may hold open at once; a further one is closed at once. */
export const DEFAULT_MAX_CONNECTIONS_PER_PEER = 4
/** Inbound connections per second from one IP address before libp2p refuses more (libp2p's default: 5). */
export const DEFAULT_INBOUND_CONNECTIONS_PER_HOST = 5
/** Yamux streams a peer may have open on one connection (Yamux's default: 1000, each with a 256 KiB receive window). */
export const YAMUX_MAX_INBOUND_STREAMS = 256
/** Peers whose stream-rate state is kept before idle ones are forgotten. */
export const DEFAULT_STREAM_RATE_PEERS = 10_000
/** Wants (block or have) for blocks this node does not hold that one peer may send at once... */
export const DEFAULT_BLOCKS_MISSING_BURST = 4096
/** ...and per second after that; past it the stream is refused and the peer penalised (src/content/swarm-server.ts). */
export const DEFAULT_BLOCKS_MISSING_PER_SECOND = 256
/** Peers whose missing-wants budget is kept before idle ones are forgotten. */
export const DEFAULT_BLOCKS_MISSING_PEERS = 10_000

/**
 * Bytes a bulk stream leaves unused of a relayed connection's data limit, for the messages that
 * share the connection (a direct message, identify, pings): OpenStreamOptions.bulk.
 */
export const BULK_RELAY_RESERVE_BYTES = 1024 * 1024
/**
 * Bytes a relayed connection must hold besides the reserve for a bulk stream to be opened on it:
 * one block of the default 1 MiB chunk size (OpenStreamOptions.bulk).
 */
export const BULK_UNIT_BYTES = 1024 * 1024
/** Blocks read ahead of the consumer on each level of a file's DAG when it is exported or streamed (src/content/exporter.ts). */
export const DEFAULT_EXPORT_READ_AHEAD = 4
/** Ed25519 public keys whose strict checks and OpenSSL key are kept for verification (src/core/crypto.ts). */
export const ED25519_VERIFY_KEY_CACHE = 1024
