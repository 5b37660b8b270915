/** The `messaging` section of config.json (docs/config.md): topics and direct messages. */
import {
  DEFAULT_DM_BURST,
  DEFAULT_DM_MAX_BYTES,
  DEFAULT_DM_PER_MINUTE,
  DEFAULT_INBOX_CAP,
  DEFAULT_OUTBOX_CAP,
  DEFAULT_TOPIC_MAX_BYTES,
  DM_RETRY_MAX_MS,
  DM_RETRY_MIN_MS,
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
})
export type MessagingConfig = Static<typeof messagingConfig>
