/** Content's file routes: add a path, get a CID, list a folder, read a file, find providers. */
import { isAbsolute } from 'node:path'
import type { FastifyPluginAsync } from 'fastify'
import { InvalidInputError } from '../../core/errors.ts'
import { errorResponses } from '../../daemon/schemas.ts'
import type { RouteContext } from '../../daemon/service-api.ts'
import { sendFileData } from './file-data.ts'
import {
  type AddBody,
  addBody,
  type CidParams,
  cidParams,
  type DataQuery,
  dataQuery,
  type GetBody,
  getBody,
  type LsReply,
  lsReply,
  type ProvidersReply,
  providersReply,
  type TimeoutQuery,
  timeoutQuery,
} from './schemas.ts'
import { answerTransfer, startedResponses } from './transfer-reply.ts'

function timeoutOf(query: TimeoutQuery): { timeoutMs?: number } {
  return query.timeoutMs === undefined ? {} : { timeoutMs: Number(query.timeoutMs) }
}

function absolute(path: string, what: string): string {
  if (!isAbsolute(path))
    throw new InvalidInputError(`${what} must be an absolute path (the daemon resolves nothing): ${path}`)
  return path
}

export const fileRoutes: FastifyPluginAsync<RouteContext> = async (app, { node, transfers }) => {
  const content = node.content

  app.post<{ Body: AddBody }>(
    '/v1/content',
    {
      schema: {
        summary: 'Add a file or folder from a path on this machine: pins and announces it (a transfer)',
        body: addBody,
        response: startedResponses,
      },
    },
    async (req, reply) => {
      const { path, wait, ...options } = req.body
      absolute(path, '"path"')
      const view = await transfers.start(
        { kind: 'add', path },
        (signal, onProgress) => content.addPath(path, { ...options, signal, onProgress }),
        wait === true,
      )
      return answerTransfer(reply, view)
    },
  )

  app.post<{ Params: CidParams; Body: GetBody }>(
    '/v1/content/:cid/get',
    {
      schema: {
        summary: 'Fetch content from every peer that has it; keeps it and optionally writes it to a path (a transfer)',
        params: cidParams,
        body: getBody,
        response: startedResponses,
      },
    },
    async (req, reply) => {
      const { output, pin, timeoutMs, wait } = req.body ?? {}
      if (output !== undefined) absolute(output, '"output"')
      const view = await transfers.start(
        { kind: 'get', cid: req.params.cid, ...(output === undefined ? {} : { path: output }) },
        (signal, onProgress) =>
          content.get(req.params.cid, {
            signal,
            onProgress,
            ...(output === undefined ? {} : { output }),
            ...(pin === undefined ? {} : { pin }),
            ...(timeoutMs === undefined ? {} : { timeoutMs }),
          }),
        wait === true,
      )
      return answerTransfer(reply, view)
    },
  )

  app.get<{ Params: CidParams; Querystring: TimeoutQuery }>(
    '/v1/content/:cid',
    {
      schema: {
        summary: "A folder's entries with sizes (or the file itself); missing blocks are fetched from peers",
        params: cidParams,
        querystring: timeoutQuery,
        response: { 200: lsReply, ...errorResponses },
      },
    },
    async (req): Promise<LsReply> => ({
      cid: req.params.cid,
      entries: await content.ls(req.params.cid, timeoutOf(req.query)),
    }),
  )

  app.get<{ Params: CidParams; Querystring: DataQuery }>(
    '/v1/content/:cid/data',
    {
      schema: {
        summary: "A stored file's bytes (get it first); ?filename= offers it as a download",
        params: cidParams,
        querystring: dataQuery,
        produces: ['application/octet-stream'],
      },
    },
    async (req, reply) => sendFileData(node, req.params.cid, req.query.filename, reply),
  )

  app.get<{ Params: CidParams; Querystring: TimeoutQuery }>(
    '/v1/content/:cid/providers',
    {
      schema: {
        summary: 'Peers that have the content: connected peers asked directly, and DHT provider records',
        params: cidParams,
        querystring: timeoutQuery,
        response: { 200: providersReply, ...errorResponses },
      },
    },
    async (req): Promise<ProvidersReply> => ({
      cid: req.params.cid,
      providers: await content.providers(req.params.cid, timeoutOf(req.query)),
    }),
  )
}
