/** The `messaging` section of config.json (docs/config.md): topics and direct messages. */
import {
  DEFAULT_DM_ACK_TIMEOUT_MS,
  DEFAULT_DM_BURST,
  DEFAULT_DM_IDLE_TIMEOUT_MS,
  DEFAULT_DM_INBOUND_STREAMS,
  DEFAULT_DM_MAX_BYTES,
  DEFAULT_DM_OPEN_TIMEOUT_MS,
  DEFAULT_DM_PER_MINUTE,
  DEFAULT_DM_RATE_LIMIT_PEERS,
  DEFAULT_DM_SEEN_CAP,
  DEFAULT_DM_SEEN_PER_SENDER,
  DEFAULT_INBOX_CAP,
  DEFAULT_OUTBOX_CAP,
  DEFAULT_TOPIC_MAX_BYTES,
  DM_RETRY_AFTER_MAX_MS,
  DM_RETRY_MAX_MS,
  DM_RETRY_MIN_MS,
  TOPIC_READER_QUEUE,
} from '../core/constants.ts'
import { count, millis, type Static, section } from '../core/settings.ts'

export const messagingConfig = section('Topics and direct messages', {
  topicMaxBytes: count('largest topic message (encoded), bytes; checked before decoding', DEFAULT_TOPIC_MAX_BYTES, {
    minimum: 1,
  }),
  dmMaxBytes: count('largest direct-message body, bytes', DEFAULT_DM_MAX_BYTES, { minimum: 1 }),
  inboxCap: count("inbox size at which new messages are refused (they wait in the sender's outbox)", DEFAULT_INBOX_CAP),
  outboxCap: count('outbox size at which `send` fails with OutboxFullError', DEFAULT_OUTBOX_CAP),
  dmBurst: count('direct messages a peer may send at once...', DEFAULT_DM_BURST, { minimum: 1 }),
  dmPerMinute: count('...and per minute after that', DEFAULT_DM_PER_MINUTE, { minimum: 1 }),
  retryMinMs: millis('first wait before a queued direct message is tried again; doubles each attempt', DM_RETRY_MIN_MS),
  retryMaxMs: millis('longest wait between two attempts of a queued direct message', DM_RETRY_MAX_MS),
  retryAfterMaxMs: millis(
    "longest wait a recipient's rate-limit answer can impose on the next attempt",
    DM_RETRY_AFTER_MAX_MS,
  ),
  topicReaderQueue: count(
    'messages queued for one slow local reader of a topic before the oldest are dropped',
    TOPIC_READER_QUEUE,
    { minimum: 1 },
  ),
  dmOpenTimeoutMs: millis('opening a direct-message stream to a recipient', DEFAULT_DM_OPEN_TIMEOUT_MS),
  dmAckTimeoutMs: millis(
    'from writing a direct message to reading its acknowledgement; past it the message waits in the outbox',
    DEFAULT_DM_ACK_TIMEOUT_MS,
  ),
  dmIdleTimeoutMs: millis(
    'an incoming direct-message stream that sends nothing for this long is closed (also the ack write deadline)',
    DEFAULT_DM_IDLE_TIMEOUT_MS,
  ),
  dmInboundStreams: count('incoming direct-message streams per connection', DEFAULT_DM_INBOUND_STREAMS, { minimum: 1 }),
  dmSeenPerSender: count(
    'recent message IDs remembered per sender to drop duplicates (docs/protocols/dm.md)',
    DEFAULT_DM_SEEN_PER_SENDER,
    { minimum: 1 },
  ),
  dmSeenCap: count('message IDs remembered in all; past it the oldest go, down to 90 %', DEFAULT_DM_SEEN_CAP, {
    minimum: 1,
  }),
  dmRateLimitPeers: count('senders whose rate-limit state is kept', DEFAULT_DM_RATE_LIMIT_PEERS, { minimum: 1 }),
})
export type MessagingConfig = Static<typeof messagingConfig>
