/** Routes of the mailbox service (a Fastify plugin): what this node holds and its own mailboxes; collect now. */
import { errorResponses } from '../../daemon/schemas.ts'
import type { ServiceApi } from '../../daemon/service-api.ts'
import {
  type CollectBody,
  type CollectReply,
  collectBody,
  collectReply,
  type MailboxStatusReply,
  mailboxSchemas,
  statusReply,
} from './schemas.ts'

export const mailboxApi: ServiceApi = {
  schemas: mailboxSchemas,
  routes: async (app, { node }) => {
    const mailbox = node.mailbox

    app.get(
      '/v1/mailbox',
      {
        schema: {
          summary:
            "This identity's mailboxes with the last collection from each, and what this node holds for others (per identity: messages, bytes, quota, oldest, grant)",
          response: { 200: statusReply },
        },
      },
      async (): Promise<MailboxStatusReply> => mailbox.status(),
    )

    app.post<{ Body: CollectBody }>(
      '/v1/mailbox/collect',
      {
        schema: {
          summary: "Collect this device's mail now from its identity's mailboxes (or one); answers when done",
          body: collectBody,
          response: { 200: collectReply, ...errorResponses },
        },
      },
      async (req): Promise<CollectReply> => ({
        results: await mailbox.collect(req.body?.mailbox === undefined ? {} : { mailbox: req.body.mailbox }),
      }),
    )
  },
}
