/** Messaging's direct-message routes: send, the inbox (list, delete) and the outbox. */
import type { FastifyPluginAsync } from 'fastify'
import { errorResponses } from '../../daemon/schemas.ts'
import type { RouteContext } from '../../daemon/service-api.ts'
import { bodyView } from '../../daemon/views.ts'
import { readBody } from './message-body.ts'
import {
  type AnySendReply,
  anySendReply,
  type DirectMessagesReply,
  directMessagesReply,
  type InboxDeleteBody,
  type InboxDeleteReply,
  inboxDeleteBody,
  inboxDeleteReply,
  type SendBody,
  sendBody,
} from './schemas.ts'

export const directMessageRoutes: FastifyPluginAsync<RouteContext> = async (app, { node }) => {
  const m = node.messaging

  app.post<{ Body: SendBody }>(
    '/v1/messages',
    {
      schema: {
        summary:
          'Send an end-to-end encrypted direct message to a device, or to a person (identity ID or contact name: every current device); says whether it was delivered or queued',
        body: sendBody,
        response: { 200: anySendReply, ...errorResponses },
      },
    },
    async (req): Promise<AnySendReply> => {
      const { body, type } = readBody(req.body)
      const options = type === undefined ? {} : { type }
      const target = await node.identity.contacts.resolve(req.body.to)
      if (target.identity === undefined) return m.send(req.body.to, body, options)
      const sent = await m.sendToPerson(target.identity, body, options)
      return target.contact === undefined ? sent : { ...sent, contact: target.contact }
    },
  )

  app.get(
    '/v1/messages/inbox',
    { schema: { summary: 'Received direct messages, oldest first', response: { 200: directMessagesReply } } },
    async (): Promise<DirectMessagesReply> => {
      const contacts = await node.identity.contacts.list()
      const nameOf = (identity?: string) => contacts.find((c) => c.identity === identity)?.name
      return {
        messages: (await m.inbox()).map(({ body, ...rest }) => {
          const contact = nameOf(rest.identity)
          return { ...rest, ...(contact === undefined ? {} : { contact }), ...bodyView(rest.type, body) }
        }),
      }
    },
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
