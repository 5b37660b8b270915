export type { Ack, DirectMessageFallback, SendResult } from './direct-messages.ts'
export type { DirectMessage } from './dm-envelope.ts'
export type { InboxEntry } from './dm-store.ts'
export {
  createMessaging,
  type Messaging,
  type MessagingComponents,
  type MessagingEvents,
  type MessagingInit,
  type OutboxView,
  type PersonSendResult,
} from './messaging.ts'
export type { ReceivedTopicMessage, Topic } from './topics.ts'
