/** The `mailbox` section of config.json (docs/config.md, docs/protocols/mailbox.md). */
import {
  DEFAULT_MAILBOX_COLLECT_INTERVAL_MS,
  DEFAULT_MAILBOX_ENVELOPE_MAX_BYTES,
  DEFAULT_MAILBOX_IDLE_TIMEOUT_MS,
  DEFAULT_MAILBOX_INBOUND_STREAMS,
  DEFAULT_MAILBOX_LAPSE_GRACE_MS,
  DEFAULT_MAILBOX_MAX_BYTES,
  DEFAULT_MAILBOX_MAX_MESSAGES,
  DEFAULT_MAILBOX_MAX_MESSAGES_PER_IDENTITY,
  DEFAULT_MAILBOX_MESSAGE_TTL_MS,
  DEFAULT_MAILBOX_OPEN_TIMEOUT_MS,
  DEFAULT_MAILBOX_QUOTA_BYTES,
  DEFAULT_MAILBOX_SENDER_SHARE_PERCENT,
  DEFAULT_MAILBOX_SWEEP_INTERVAL_MS,
} from '../core/constants.ts'
import { count, millis, type Static, section } from '../core/settings.ts'

export const mailboxConfig = section('Mailboxes: mail held for people whose devices are away, and collecting ours', {
  defaultQuotaBytes: count(
    'bytes held for one identity when its /msg/deposit grant sets no quota',
    DEFAULT_MAILBOX_QUOTA_BYTES,
    { minimum: 1 },
  ),
  maxBytes: count('bytes held for all identities together', DEFAULT_MAILBOX_MAX_BYTES, { minimum: 1 }),
  maxMessagesPerIdentity: count('messages held for one identity', DEFAULT_MAILBOX_MAX_MESSAGES_PER_IDENTITY, {
    minimum: 1,
  }),
  maxMessages: count('messages held for all identities together', DEFAULT_MAILBOX_MAX_MESSAGES, { minimum: 1 }),
  senderSharePercent: count(
    "share of one identity's quota (bytes and messages) one sender may fill, percent",
    DEFAULT_MAILBOX_SENDER_SHARE_PERCENT,
    { minimum: 1, maximum: 100 },
  ),
  maxEnvelopeBytes: count('largest envelope taken or collected, bytes', DEFAULT_MAILBOX_ENVELOPE_MAX_BYTES, {
    minimum: 1024,
  }),
  messageTtlMs: millis(
    'a message no device collected is dropped this long after its deposit',
    DEFAULT_MAILBOX_MESSAGE_TTL_MS,
  ),
  lapseGraceMs: millis(
    "after a grant expires, its identity's mail is kept this long for a renewal (a revoked grant drops it at once)",
    DEFAULT_MAILBOX_LAPSE_GRACE_MS,
  ),
  sweepIntervalMs: millis(
    'how often expired mail, and the mail of lapsed grants and removed devices, is dropped',
    DEFAULT_MAILBOX_SWEEP_INTERVAL_MS,
  ),
  collectIntervalMs: millis(
    'how often this device collects from its mailboxes (also at start, on connecting to one, and when told)',
    DEFAULT_MAILBOX_COLLECT_INTERVAL_MS,
  ),
  openTimeoutMs: millis('opening a stream to a mailbox or a device', DEFAULT_MAILBOX_OPEN_TIMEOUT_MS),
  idleTimeoutMs: millis(
    'a mailbox stream on which the other side owes a frame and sends nothing for this long is closed',
    DEFAULT_MAILBOX_IDLE_TIMEOUT_MS,
  ),
  inboundStreams: count('incoming mailbox streams per connection', DEFAULT_MAILBOX_INBOUND_STREAMS, { minimum: 1 }),
})
export type MailboxConfig = Static<typeof mailboxConfig>
