/** Messaging's direct-message routes: send, the inbox (list, delete) and the outbox. */
import type { FastifyPluginAsync } from 'fastify'
import { errorResponses } from '../../daemon/schemas.ts'
import type { RouteContext } from '../../daemon/service-api.ts'
import { bodyView } from '../../daemon/views.ts'
import { readBody } from './message-body.ts'
import {
  type DirectMessagesReply,
  directMessagesReply,
  type InboxDeleteBody,
  type InboxDeleteReply,
  inboxDeleteBody,
  inboxDeleteReply,
  type SendBody,
  type SendReply,
  sendBody,
  sendReply,
} from './schemas.ts'

export const directMessageRoutes: FastifyPluginAsync<RouteContext> = async (app, { node }) => {
  const m = node.messaging

  app.post<{ Body: SendBody }>(
    '/v1/messages',
    {
      schema: {
        summary: 'Send an end-to-end encrypted direct message; says whether it was delivered or queued',
        body: sendBody,
        response: { 200: sendReply, ...errorResponses },
      },
    },
    async (req): Promise<SendReply> => {
      const { body, type } = readBody(req.body)
      return m.send(req.body.to, body, type === undefined ? {} : { type })
    },
  )

  app.get(
    '/v1/messages/inbox',
    { schema: { summary: 'Received direct messages, oldest first', response: { 200: directMessagesReply } } },
    async (): Promise<DirectMessagesReply> => ({
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
    async (req): Promise<InboxDeleteReply> => ({ deleted: await m.deleteFromInbox(req.body?.ids) }),
  )

  app.get(
    '/v1/messages/outbox',
    {
      schema: {
        summary: 'Direct messages waiting for their recipient, with attempts and last error',
        response: { 200: directMessagesReply },
      },
    },
    async (): Promise<DirectMessagesReply> => ({
      messages: (await m.outbox()).map(({ body, ...rest }) => ({
        ...rest,
        from: node.peerId,
        time: rest.createdAt,
        ...bodyView(rest.type, body),
      })),
    }),
  )
}
