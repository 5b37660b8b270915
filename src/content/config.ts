/** The `content` section of config.json (docs/config.md, docs/protocols/blocks.md). */
import {
  DEFAULT_BLOCKS_IDLE_TIMEOUT_MS,
  DEFAULT_BLOCKS_MAX_INBOUND_STREAMS,
  DEFAULT_BLOCKS_PEER_IN_FLIGHT,
  DEFAULT_BLOCKS_PEER_SLOTS,
  DEFAULT_BLOCKS_WRITE_TIMEOUT_MS,
  DEFAULT_BLOCKSTORE_HASH_THREADS,
  DEFAULT_CONTENT,
  DEFAULT_END_GAME_DUPLICATES,
  DEFAULT_PROVIDE_TIMEOUT_MS,
  DEFAULT_PROVIDERS_TIMEOUT_MS,
  DEFAULT_RAREST_FIRST_SCAN,
  DEFAULT_REPROVIDE_CONCURRENCY,
  DEFAULT_STORE_QUEUE,
  DEFAULT_STREAM_WRITE_BUFFER_BYTES,
  DEFAULT_TIMEOUTS_BEFORE_DROP,
  DEFAULT_WINDOW_INITIAL,
  DEFAULT_WINDOW_MAX,
  DEFAULT_WINDOW_MIN,
  WINDOW_MAX_LIMIT,
} from '../core/constants.ts'
import { count, flag, millis, type Static, section } from '../core/settings.ts'

export const contentConfig = section('File sharing. Rates are bytes per second, 0 = unlimited.', {
  uploadLimit: count(
    'bytes per second sent to all peers together; 0 = unlimited. The flag takes `10M`, `512k`, ...',
    DEFAULT_CONTENT.uploadLimit,
    {
      flag: '--upload-limit RATE',
    },
  ),
  downloadLimit: count(
    'bytes per second received from all peers together; 0 = unlimited',
    DEFAULT_CONTENT.downloadLimit,
    {
      flag: '--download-limit RATE',
    },
  ),
  uploadSlots: count(
    'blocks being sent at once across peers, taken in turn one block per turn',
    DEFAULT_CONTENT.uploadSlots,
    {
      minimum: 1,
    },
  ),
  banAfter: count(
    'corrupt blocks after which a peer is refused (never asked, never served)',
    DEFAULT_CONTENT.banAfter,
    {
      minimum: 1,
    },
  ),
  providerTimeoutMs: millis(
    'a download fails with NoProvidersError when no block arrives and no provider appears for this long',
    DEFAULT_CONTENT.providerTimeoutMs,
    { flag: 'get --timeout S' },
  ),
  blockTimeoutMs: millis(
    "a request unanswered this long (or 4x the peer's expected time) is moved to other peers",
    DEFAULT_CONTENT.blockTimeoutMs,
  ),
  maxPeers: count('peers asked in one download', DEFAULT_CONTENT.maxPeers, { minimum: 1 }),
  providerSearchIntervalMs: millis(
    'how often the DHT is asked again for providers while a download runs',
    DEFAULT_CONTENT.providerSearchIntervalMs,
  ),
  windowInitial: count(
    'blocks asked of a peer at once when it joins a download, before its speed is measured; between windowMin and windowMax',
    DEFAULT_WINDOW_INITIAL,
    { minimum: 1, maximum: WINDOW_MAX_LIMIT },
  ),
  windowMin: count(
    "fewest blocks asked of a peer at once once its speed is measured (a timeout halves a peer's window below it until the peer answers again)",
    DEFAULT_WINDOW_MIN,
    { minimum: 1, maximum: WINDOW_MAX_LIMIT },
  ),
  windowMax: count(
    'most blocks asked of one peer at once: a download holds at most this many blocks in memory per peer',
    DEFAULT_WINDOW_MAX,
    { minimum: 1, maximum: WINDOW_MAX_LIMIT },
  ),
  timeoutsBeforeDrop: count(
    'timeouts in a row after which a peer leaves a download (at each timeout its requests already go to other peers)',
    DEFAULT_TIMEOUTS_BEFORE_DROP,
    { minimum: 1 },
  ),
  rarestFirstScan: count(
    'wanted blocks, in file order, among which each peer is given those the fewest peers have (rarest first)',
    DEFAULT_RAREST_FIRST_SCAN,
    { minimum: 1 },
  ),
  endGameDuplicates: count(
    'once every block is asked for, peers asked at once for a block that is late; the first copy wins (1 = never ask twice)',
    DEFAULT_END_GAME_DUPLICATES,
    { minimum: 1 },
  ),
  storeQueue: count(
    'received blocks (already verified) being written to disk at once; the peers wait beyond it, which bounds memory',
    DEFAULT_STORE_QUEUE,
    { minimum: 1 },
  ),
  reprovideIntervalMs: count(
    'every pinned root is announced again in the DHT this often, ms (0 = never)',
    DEFAULT_CONTENT.reprovideIntervalMs,
  ),
  reprovideConcurrency: count(
    'DHT announcements of pinned roots running at once; the other roots wait their turn',
    DEFAULT_REPROVIDE_CONCURRENCY,
    { minimum: 1 },
  ),
  provideTimeoutMs: millis(
    'one DHT announcement of a root gives up after this long (it is tried again at the next reprovide)',
    DEFAULT_PROVIDE_TIMEOUT_MS,
  ),
  providersTimeoutMs: millis(
    '`lateral providers` asks connected peers and the DHT for this long unless told otherwise',
    DEFAULT_PROVIDERS_TIMEOUT_MS,
    { flag: 'providers --timeout S' },
  ),
  peerSlots: count('upload slots one peer may hold at once, across its streams', DEFAULT_BLOCKS_PEER_SLOTS, {
    minimum: 1,
  }),
  peerBlocksInFlight: count(
    'blocks one peer may have in memory on this node at once: read ahead, waiting for a slot, or not yet taken by it',
    DEFAULT_BLOCKS_PEER_IN_FLIGHT,
    { minimum: 1 },
  ),
  writeTimeoutMs: count(
    'a write to a requester that makes no progress for this long resets its stream, ms (0 = never); a stalled reader costs only itself',
    DEFAULT_BLOCKS_WRITE_TIMEOUT_MS,
  ),
  idleTimeoutMs: count(
    'a served blocks stream with nothing asked and nothing to send for this long is reset, ms (0 = never)',
    DEFAULT_BLOCKS_IDLE_TIMEOUT_MS,
  ),
  streamBufferBytes: count(
    'unsent bytes each served stream may keep queued beyond the write in progress',
    DEFAULT_STREAM_WRITE_BUFFER_BYTES,
    { minimum: 1024 },
  ),
  maxInboundStreams: count(
    'blocks streams one connection may open to this node at once',
    DEFAULT_BLOCKS_MAX_INBOUND_STREAMS,
    {
      minimum: 1,
    },
  ),
  hashThreads: count(
    'worker threads that hash the blocks a download receives or an import reads while they are written with O_DIRECT (each costs ~15 MiB of memory once started); 0 = hash them on the libuv pool instead (one more copy of each block)',
    DEFAULT_BLOCKSTORE_HASH_THREADS,
  ),
  directWrites: flag(
    'write blocks of a multiple of 4 KiB (the 1 MiB chunks) with O_DIRECT, past the page cache, where the file system allows it; false: through the page cache (reading them back soon is then cheaper, e.g. on a hard disk)',
    true,
  ),
})
export type ContentConfig = Static<typeof contentConfig>
