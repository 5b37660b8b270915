/** The daemon's transfers (long operations of any service): list, look at, cancel, follow. */

import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { errorResponses, type TransferParams, transfer, transferParams, transfersReply } from '../schemas.ts'
import type { RouteContext } from '../service-api.ts'
import { Transfers } from '../transfers.ts'

export const transferRoutes: FastifyPluginAsync<RouteContext> = async (app, { hub, transfers }) => {
  const transferReply = Type.Ref(transfer)
  app.get(
    '/v1/transfers',
    {
      schema: {
        summary: 'Running and recent transfers',
        response: {
          200: transfersReply,
          ...errorResponses,
        },
      },
    },
    async () => ({ transfers: transfers.list() }),
  )

  app.get<{ Params: TransferParams }>(
    '/v1/transfers/:id',
    {
      schema: { summary: 'One transfer', params: transferParams, response: { 200: transferReply, ...errorResponses } },
    },
    async (req) => transfers.get(req.params.id),
  )

  app.delete<{ Params: TransferParams }>(
    '/v1/transfers/:id',
    {
      schema: {
        summary: 'Cancel a transfer (a cancelled get leaves no partial output)',
        params: transferParams,
        response: { 200: transferReply, ...errorResponses },
      },
    },
    async (req) => transfers.cancel(req.params.id),
  )

  app.get<{ Params: TransferParams }>(
    '/v1/transfers/:id/events',
    {
      schema: {
        summary:
          'Server-sent events of one transfer: hello (its state now), transfer:progress, then transfer:done or transfer:failed',
        params: transferParams,
        produces: ['text/event-stream'],
      },
    },
    (req, reply) => {
      const view = transfers.get(req.params.id)
      reply.hijack()
      hub.attach(req.raw, reply.raw, view, {
        filter: Transfers.concerns(view.id),
        endAfter: Transfers.ends(view.id),
        endNow: view.state !== 'running',
      })
    },
  )
}
