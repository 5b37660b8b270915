/**
 * The messaging API's shapes (TypeBox): request validation, reply serialisation, the OpenAPI
 * document, and (through `Static`) the types the CLI and the dashboard use.
 */
import { type Static, Type } from '@sinclair/typebox'
import { stringEnum } from '../../core/settings.ts'

/** A message body on the API: `text` for text/* types, `base64` always. */
const bodyFields = {
  type: Type.String({ description: 'Content type, e.g. text/plain; charset=utf-8' }),
  text: Type.Optional(Type.String({ description: 'The body decoded as UTF-8, for text/* types' })),
  base64: Type.String({ description: 'The body, base64' }),
}

export const topicMessage = Type.Object(
  {
    topic: Type.String(),
    id: Type.String(),
    from: Type.String({ description: 'Author peer ID (signed)' }),
    time: Type.Number({ description: 'Author clock, ms since epoch' }),
    receivedAt: Type.Number(),
    ...bodyFields,
  },
  { $id: 'TopicMessage' },
)
export type TopicMessageView = Static<typeof topicMessage>

export const directMessage = Type.Object(
  {
    id: Type.String(),
    from: Type.String(),
    to: Type.String(),
    seq: Type.Integer(),
    time: Type.Number(),
    receivedAt: Type.Optional(Type.Number()),
    createdAt: Type.Optional(Type.Number()),
    attempts: Type.Optional(Type.Integer()),
    lastError: Type.Optional(Type.String()),
    failed: Type.Optional(Type.Boolean()),
    identity: Type.Optional(Type.String({ description: "The sender's identity, when known at arrival" })),
    contact: Type.Optional(Type.String({ description: "This node's contact name for that identity, if any" })),
    ...bodyFields,
  },
  { $id: 'DirectMessage' },
)
export type DirectMessageView = Static<typeof directMessage>

export const topicParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) })
export type TopicParams = Static<typeof topicParams>

const messageFields = {
  text: Type.Optional(Type.String({ maxLength: 1048576 })),
  base64: Type.Optional(Type.String({ maxLength: 1398104 })),
  type: Type.Optional(Type.String({ maxLength: 100 })),
}

/** Either `text`, or `base64` (with an optional content `type`). */
export const messageBody = Type.Object(messageFields, { additionalProperties: false })
export type MessageBody = Static<typeof messageBody>

export const sendBody = Type.Object(
  {
    ...messageFields,
    to: Type.String({ minLength: 1, maxLength: 128, description: 'A peer ID, an identity ID, or a contact name' }),
  },
  { additionalProperties: false },
)
export type SendBody = Static<typeof sendBody>

export const publishReply = Type.Object({
  recipients: Type.Integer(),
  id: Type.String(),
  time: Type.Number({ description: 'The signed message time, ms since epoch' }),
  type: Type.String({ description: 'Content type of the body' }),
})
export type PublishReply = Static<typeof publishReply>

export const sendReply = Type.Object({
  id: Type.String(),
  to: Type.String(),
  seq: Type.Integer(),
  status: stringEnum(['delivered', 'deposited', 'queued', 'failed'], {
    description: 'deposited: the recipient was unreachable and a mailbox of its identity holds it',
  }),
  error: Type.Optional(Type.String()),
  mailbox: Type.Optional(Type.String({ description: 'With deposited: the mailbox peer' })),
})
export type SendReply = Static<typeof sendReply>

/** A message to a person: how it went on each of their devices. */
export const personSendReply = Type.Object({
  identity: Type.String(),
  contact: Type.Optional(Type.String()),
  status: stringEnum(['delivered', 'deposited', 'queued', 'failed'], {
    description:
      'delivered: on every device; deposited: on every device or with a mailbox for it; failed: on none; else queued',
  }),
  devices: Type.Array(sendReply),
})
export type PersonSendReply = Static<typeof personSendReply>

export const anySendReply = Type.Union([sendReply, personSendReply])
export type AnySendReply = Static<typeof anySendReply>

export const topicsReply = Type.Object({
  topics: Type.Array(Type.Object({ name: Type.String(), peers: Type.Integer() })),
})
export type TopicsReply = Static<typeof topicsReply>

export const topicNameReply = Type.Object({ name: Type.String() })
export type TopicNameReply = Static<typeof topicNameReply>

export const topicPeersReply = Type.Object({ peers: Type.Array(Type.String()) })
export type TopicPeersReply = Static<typeof topicPeersReply>

export const topicMessagesReply = Type.Object({ messages: Type.Array(Type.Ref(topicMessage)) })
export type TopicMessagesReply = Static<typeof topicMessagesReply>

export const directMessagesReply = Type.Object({ messages: Type.Array(Type.Ref(directMessage)) })
export type DirectMessagesReply = Static<typeof directMessagesReply>

export const inboxDeleteBody = Type.Object(
  { ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 10000 })) },
  { additionalProperties: false },
)
export type InboxDeleteBody = Static<typeof inboxDeleteBody>

export const inboxDeleteReply = Type.Object({ deleted: Type.Integer() })
export type InboxDeleteReply = Static<typeof inboxDeleteReply>

/** Registered once at the API's root so routes (and the OpenAPI document) can `$ref` them. */
export const messagingSchemas = [topicMessage, directMessage]
