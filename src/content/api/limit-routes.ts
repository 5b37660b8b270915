/** Content's rate limits and serving figures: read them, change the limits of the running node. */
import type { FastifyPluginAsync } from 'fastify'
import { errorResponses } from '../../daemon/schemas.ts'
import type { RouteContext } from '../../daemon/service-api.ts'
import { type Limits, type LimitsBody, limits, limitsBody, type StatsReply, statsReply } from './schemas.ts'

export const limitRoutes: FastifyPluginAsync<RouteContext> = async (app, { node }) => {
  const content = node.content

  app.get(
    '/v1/content/stats',
    {
      schema: {
        summary: 'Rate limits, bytes served to each peer, peers caught sending corrupt blocks',
        response: { 200: statsReply, ...errorResponses },
      },
    },
    async (): Promise<StatsReply> => ({ ...content.limits(), ...content.stats() }),
  )

  app.post<{ Body: LimitsBody }>(
    '/v1/content/limits',
    {
      schema: {
        summary: 'Change the upload and download limits of the running node (bytes per second, 0 = unlimited)',
        body: limitsBody,
        response: { 200: limits, ...errorResponses },
      },
    },
    async (req): Promise<Limits> => {
      content.setLimits(req.body)
      return content.limits()
    },
  )
}
