/** Content's pin routes: what this node keeps, keeping more, letting go, and collecting garbage. */
import type { FastifyPluginAsync } from 'fastify'
import { errorResponses } from '../../daemon/schemas.ts'
import type { RouteContext } from '../../daemon/service-api.ts'
import {
  type CidParams,
  cidParams,
  type GcReply,
  gcReply,
  type PinBody,
  type PinsReply,
  pinBody,
  pinsReply,
  type UnpinReply,
  unpinReply,
} from './schemas.ts'
import { answerTransfer, startedResponses } from './transfer-reply.ts'

export const pinRoutes: FastifyPluginAsync<RouteContext> = async (app, { node, transfers }) => {
  const content = node.content

  app.get(
    '/v1/pins',
    { schema: { summary: 'Content this node keeps, with sizes', response: { 200: pinsReply, ...errorResponses } } },
    async (): Promise<PinsReply> => {
      const pins = await content.pins()
      return {
        pins: await Promise.all(
          pins.map(async (p) => ({
            ...p,
            ...(await content.stat(p.cid).then(
              (s) => ({ size: s.size }),
              () => ({}),
            )),
          })),
        ),
      }
    },
  )

  app.post<{ Params: CidParams; Body: PinBody }>(
    '/v1/pins/:cid',
    {
      schema: {
        summary: 'Keep content: fetches what is missing, pins and announces it (a transfer)',
        params: cidParams,
        body: pinBody,
        response: startedResponses,
      },
    },
    async (req, reply) => {
      const { timeoutMs, wait } = req.body ?? {}
      const view = await transfers.start(
        { kind: 'pin', cid: req.params.cid },
        (signal, onProgress) =>
          content.get(req.params.cid, { signal, onProgress, ...(timeoutMs === undefined ? {} : { timeoutMs }) }),
        wait === true,
      )
      return answerTransfer(reply, view)
    },
  )

  app.delete<{ Params: CidParams }>(
    '/v1/pins/:cid',
    {
      schema: {
        summary: 'Stop keeping content (its blocks go at the next GC)',
        params: cidParams,
        response: { 200: unpinReply, ...errorResponses },
      },
    },
    async (req): Promise<UnpinReply> => {
      await content.unpin(req.params.cid)
      return { cid: req.params.cid }
    },
  )

  app.post(
    '/v1/gc',
    { schema: { summary: 'Delete every block no pin needs', response: { 200: gcReply, ...errorResponses } } },
    async (): Promise<GcReply> => content.gc(),
  )
}
