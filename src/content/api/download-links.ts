/**
 * One-time download links for the dashboard: a browser cannot send the token with a plain link,
 * so the page asks for a link to a stored file (with the token) and the browser follows it
 * (without). Each link works once and expires; links live in memory only.
 */
import type { FastifyPluginAsync } from 'fastify'
import { UnauthorizedError } from '../../core/errors.ts'
import { OneTimeCodes } from '../../daemon/one-time.ts'
import { errorResponses } from '../../daemon/schemas.ts'
import type { RouteContext } from '../../daemon/service-api.ts'
import { sendFileData } from './file-data.ts'
import {
  type CidParams,
  cidParams,
  type LinkBody,
  type LinkParams,
  type LinkReply,
  linkBody,
  linkParams,
  linkReply,
} from './schemas.ts'

export const downloadLinkRoutes: FastifyPluginAsync<RouteContext> = async (app, { node }) => {
  const { downloadLinkTtlMs, downloadLinksMax } = node.config.daemon
  const downloads = new OneTimeCodes<{ cid: string; filename: string }>({
    ttlMs: downloadLinkTtlMs,
    max: downloadLinksMax,
  })

  app.post<{ Params: CidParams; Body: LinkBody }>(
    '/v1/content/:cid/link',
    {
      schema: {
        summary: 'A one-time download link for a stored file (for browsers, which cannot send the token)',
        params: cidParams,
        body: linkBody,
        response: { 200: linkReply, ...errorResponses },
      },
    },
    async (req): Promise<LinkReply> => {
      // Fail now, not when the browser follows the link, if the file is not here.
      await node.content.stat(req.params.cid)
      const { code, expiresAt } = downloads.issue({ cid: req.params.cid, filename: req.body.filename })
      return { path: `/dl/${code}`, expiresAt }
    },
  )

  app.get<{ Params: LinkParams }>(
    '/dl/:code',
    {
      config: { public: true },
      schema: {
        summary: 'Follow a one-time download link (no token needed; each link works once)',
        security: [],
        params: linkParams,
        produces: ['application/octet-stream'],
      },
    },
    async (req, reply) => {
      const target = downloads.redeem(req.params.code)
      if (target === undefined) throw new UnauthorizedError('this download link was already used or has expired')
      return sendFileData(node, target.cid, target.filename, reply)
    },
  )
}
