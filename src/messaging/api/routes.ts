/** Routes of the messaging service: topics and direct messages (a Fastify plugin). */
import { InvalidInputError } from '../../core/errors.ts'
import { errorResponses } from '../../daemon/schemas.ts'
import type { ServiceApi } from '../../daemon/service-api.ts'
import { bodyView } from '../../daemon/views.ts'
import {
  directMessagesReply,
  type InboxDeleteBody,
  inboxDeleteBody,
  inboxDeleteReply,
  type MessageBody,
  messageBody,
  messagingSchemas,
  publishReply,
  type SendBody,
  sendBody,
  sendReply,
  type TopicParams,
  topicMessagesReply,
  topicNameReply,
  topicParams,
  topicPeersReply,
  topicsReply,
} from './schemas.ts'
import { TopicLog } from './topic-log.ts'

type BodyInput = MessageBody

/** The bytes and content type of a request body that has `text` or `base64`. */
function readBody(input: BodyInput): { body: string | Uint8Array; type?: string } {
  if ((input.text === undefined) === (input.base64 === undefined)) {
    throw new InvalidInputError('give exactly one of "text" or "base64"')
  }
  const type = input.type === undefined ? {} : { type: input.type }
  if (input.text !== undefined) return { body: input.text, ...type }
  const base64 = input.base64 as string
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new InvalidInputError('"base64" is not base64')
  return { body: new Uint8Array(Buffer.from(base64, 'base64')), ...type }
}

export const messagingApi: ServiceApi = {
  schemas: messagingSchemas,
  routes: async (app, { node, hub }) => {
    const m = node.messaging
    const log = new TopicLog(node, node.config.daemon.topicLogSize)
    app.addHook('onClose', async () => log.close())

    app.get(
      '/v1/topics',
      {
        schema: {
          summary: 'Topics this node has joined, with how many peers are in each',
          response: {
            200: topicsReply,
            ...errorResponses,
          },
        },
      },
      async () => ({ topics: m.joined().map((name) => ({ name, peers: m.topicPeers(name).length })) }),
    )

    app.post<{ Params: TopicParams }>(
      '/v1/topics/:name/join',
      {
        schema: {
          summary: 'Join a topic (subscribe); messages arrive as topic:message events',
          params: topicParams,
          response: { 200: topicNameReply, ...errorResponses },
        },
      },
      async (req) => {
        m.join(req.params.name)
        return { name: req.params.name }
      },
    )

    app.post<{ Params: TopicParams }>(
      '/v1/topics/:name/leave',
      {
        schema: {
          summary: 'Leave a topic joined through the API',
          params: topicParams,
          response: { 200: topicNameReply, ...errorResponses },
        },
      },
      async (req) => {
        m.leave(req.params.name)
        log.forget(req.params.name)
        return { name: req.params.name }
      },
    )

    app.post<{ Params: TopicParams; Body: MessageBody }>(
      '/v1/topics/:name/publish',
      {
        schema: {
          summary: 'Publish a signed message to a topic',
          params: topicParams,
          body: messageBody,
          response: { 200: publishReply, ...errorResponses },
        },
      },
      async (req) => {
        const { body, type } = readBody(req.body)
        const sent = await m.publish(req.params.name, body, type === undefined ? {} : { type })
        const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body
        const message = {
          topic: req.params.name,
          id: sent.id,
          from: node.peerId,
          time: sent.time,
          type: sent.type,
          receivedAt: sent.time,
          ...bodyView(sent.type, bytes),
        }
        log.record(message)
        hub.publish({ type: 'topic:sent', data: message })
        return sent
      },
    )

    app.get<{ Params: TopicParams }>(
      '/v1/topics/:name/messages',
      {
        schema: {
          summary: 'The last 200 messages of a topic joined through the API (received and sent), oldest first',
          params: topicParams,
          response: { 200: topicMessagesReply, ...errorResponses },
        },
      },
      async (req) => ({ messages: log.recent(req.params.name) }),
    )

    app.get<{ Params: TopicParams }>(
      '/v1/topics/:name/peers',
      {
        schema: {
          summary: 'Peers subscribed to a topic',
          params: topicParams,
          response: {
            200: topicPeersReply,
            ...errorResponses,
          },
        },
      },
      async (req) => ({ peers: m.topicPeers(req.params.name) }),
    )

    app.post<{ Body: SendBody }>(
      '/v1/messages',
      {
        schema: {
          summary: 'Send an end-to-end encrypted direct message; says whether it was delivered or queued',
          body: sendBody,
          response: { 200: sendReply, ...errorResponses },
        },
      },
      async (req) => {
        const { body, type } = readBody(req.body)
        return m.send(req.body.to, body, type === undefined ? {} : { type })
      },
    )

    app.get(
      '/v1/messages/inbox',
      { schema: { summary: 'Received direct messages, oldest first', response: { 200: directMessagesReply } } },
      async () => ({
        messages: (await m.inbox()).map(({ body, ...rest }) => ({ ...rest, ...bodyView(rest.type, body) })),
      }),
    )

    app.post<{ Body: InboxDeleteBody }>(
      '/v1/messages/inbox/delete',
      {
        schema: {
          summary: 'Delete inbox messages by ID, or all of them when no IDs are given',
          body: inboxDeleteBody,
          response: { 200: inboxDeleteReply, ...errorResponses },
        },
      },
      async (req) => ({ deleted: await m.deleteFromInbox(req.body?.ids) }),
    )

    app.get(
      '/v1/messages/outbox',
      {
        schema: {
          summary: 'Direct messages waiting for their recipient, with attempts and last error',
          response: { 200: directMessagesReply },
        },
      },
      async () => ({
        messages: (await m.outbox()).map(({ body, ...rest }) => ({
          ...rest,
          from: node.peerId,
          time: rest.createdAt,
          ...bodyView(rest.type, body),
        })),
      }),
    )
  },
}
