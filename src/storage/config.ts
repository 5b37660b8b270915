/** The `storage` section of config.json (docs/config.md, docs/protocols/storage.md): delegated storage and its checks. */
import {
  DEFAULT_STORAGE_CHALLENGE_POOL,
  DEFAULT_STORAGE_CHALLENGE_RANGE_BYTES,
  DEFAULT_STORAGE_CHECK_HISTORY,
  DEFAULT_STORAGE_CHECK_MEAN_MS,
  DEFAULT_STORAGE_EXPIRY_GRACE_MS,
  DEFAULT_STORAGE_FETCH_TIMEOUT_MS,
  DEFAULT_STORAGE_FETCHES,
  DEFAULT_STORAGE_INBOUND_STREAMS,
  DEFAULT_STORAGE_KEPT_MAX_BYTES,
  DEFAULT_STORAGE_PLACED_MAX,
  DEFAULT_STORAGE_PROOF_MAX_BYTES,
  DEFAULT_STORAGE_PUT_TIMEOUT_MS,
  DEFAULT_STORAGE_PUTS_PER_PEER,
  DEFAULT_STORAGE_RATE_PEERS,
  DEFAULT_STORAGE_REQUEST_TIMEOUT_MS,
  DEFAULT_STORAGE_REQUESTS_PER_MINUTE,
  DEFAULT_STORAGE_SUBJECT_MAX_BYTES,
  DEFAULT_STORAGE_SUBJECT_MAX_COPIES,
  DEFAULT_STORAGE_SWEEP_MS,
} from '../core/constants.ts'
import { count, millis, type Static, section } from '../core/settings.ts'

export const storageConfig = section('Delegated storage: content kept for others, and checks of what others keep', {
  checkMeanMs: count(
    'mean time between two storage challenges of one placed copy, ms (random, exponential); 0 turns them off',
    DEFAULT_STORAGE_CHECK_MEAN_MS,
  ),
  challengePool: count(
    'challenges precomputed per copy at put time; past them a check asks for a whole block',
    DEFAULT_STORAGE_CHALLENGE_POOL,
  ),
  challengeRangeBytes: count(
    'bytes one precomputed challenge hashes at most; a keeper hashes no more for one',
    DEFAULT_STORAGE_CHALLENGE_RANGE_BYTES,
    { minimum: 1 },
  ),
  checkHistory: count('answers to checks remembered per placed copy', DEFAULT_STORAGE_CHECK_HISTORY, { minimum: 1 }),
  placedMax: count('copies this node places with keepers at most', DEFAULT_STORAGE_PLACED_MAX, { minimum: 1 }),
  putTimeoutMs: millis('waiting for a keeper to fetch and keep a DAG', DEFAULT_STORAGE_PUT_TIMEOUT_MS),
  requestTimeoutMs: millis(
    'a check or drop exchange, and reading a request as a keeper',
    DEFAULT_STORAGE_REQUEST_TIMEOUT_MS,
  ),
  expiryGraceMs: count(
    'a copy is still kept this long after its grant expired, so a late renewal loses nothing, ms',
    DEFAULT_STORAGE_EXPIRY_GRACE_MS,
  ),
  sweepIntervalMs: millis('kept copies are judged against their grants this often', DEFAULT_STORAGE_SWEEP_MS),
  fetchTimeoutMs: millis(
    "a keeper's fetch of a DAG it was asked to keep gives up after this",
    DEFAULT_STORAGE_FETCH_TIMEOUT_MS,
  ),
  keptMaxBytes: count(
    'bytes this node keeps for other identities in all, whatever their grants say; 0 keeps none',
    DEFAULT_STORAGE_KEPT_MAX_BYTES,
  ),
  subjectMaxBytes: count(
    'bytes this node keeps for one identity at most, whatever its grant says',
    DEFAULT_STORAGE_SUBJECT_MAX_BYTES,
  ),
  subjectMaxCopies: count(
    'copies (roots) this node keeps for one identity at most',
    DEFAULT_STORAGE_SUBJECT_MAX_COPIES,
  ),
  putsPerPeer: count('puts one peer may have in progress at once', DEFAULT_STORAGE_PUTS_PER_PEER, { minimum: 1 }),
  fetches: count(
    'fetches this node runs for others at once; a put past it is refused as busy',
    DEFAULT_STORAGE_FETCHES,
    {
      minimum: 1,
    },
  ),
  requestsPerMinute: count(
    'storage requests one peer may send per minute (and at once)',
    DEFAULT_STORAGE_REQUESTS_PER_MINUTE,
    {
      minimum: 1,
    },
  ),
  ratePeers: count('peers whose request rate is remembered', DEFAULT_STORAGE_RATE_PEERS, { minimum: 1 }),
  inboundStreams: count('storage streams one connection may have open at once', DEFAULT_STORAGE_INBOUND_STREAMS, {
    minimum: 1,
  }),
  proofMaxBytes: count(
    'largest whole-block proof sent or accepted (the blocks from the root to the chosen block), bytes',
    DEFAULT_STORAGE_PROOF_MAX_BYTES,
    { minimum: 1024 },
  ),
})
export type StorageConfig = Static<typeof storageConfig>
