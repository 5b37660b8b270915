/** Messaging's topic routes: list, join, leave, publish, recent messages, peers of a topic. */
import type { FastifyPluginAsync } from 'fastify'
import { errorResponses } from '../../daemon/schemas.ts'
import type { RouteContext } from '../../daemon/service-api.ts'
import { bodyView } from '../../daemon/views.ts'
import { readBody } from './message-body.ts'
import {
  type MessageBody,
  messageBody,
  type PublishReply,
  publishReply,
  type TopicMessagesReply,
  type TopicMessageView,
  type TopicNameReply,
  type TopicParams,
  type TopicPeersReply,
  type TopicsReply,
  topicMessagesReply,
  topicNameReply,
  topicParams,
  topicPeersReply,
  topicsReply,
} from './schemas.ts'
import { TopicLog } from './topic-log.ts'

export const topicRoutes: FastifyPluginAsync<RouteContext> = async (app, { node, hub }) => {
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
    async (): Promise<TopicsReply> => ({
      topics: m.joined().map((name) => ({ name, peers: m.topicPeers(name).length })),
    }),
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
    async (req): Promise<TopicNameReply> => {
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
    async (req): Promise<TopicNameReply> => {
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
    async (req): Promise<PublishReply> => {
      const { body, type } = readBody(req.body)
      const sent = await m.publish(req.params.name, body, type === undefined ? {} : { type })
      const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body
      const message: TopicMessageView = {
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
    async (req): Promise<TopicMessagesReply> => ({ messages: log.recent(req.params.name) }),
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
    async (req): Promise<TopicPeersReply> => ({ peers: m.topicPeers(req.params.name) }),
  )
}
