/**
 * Routes of the content service (a Fastify plugin): add, get, ls, data, providers, pins, GC,
 * limits and stats. Long operations run as the daemon's transfers (GET /v1/transfers/...).
 */
import { isAbsolute } from 'node:path'
import { Type } from '@sinclair/typebox'
import { InvalidInputError } from '../../core/errors.ts'
import { errorResponses, transfer } from '../../daemon/schemas.ts'
import type { ServiceApi } from '../../daemon/service-api.ts'
import type { TransferView } from '../../daemon/transfers.ts'
import { sendFileData } from './file-data.ts'
import {
  type AddBody,
  addBody,
  type CidParams,
  cidParams,
  type DataQuery,
  dataQuery,
  type GetBody,
  gcReply,
  getBody,
  type LimitsBody,
  limits,
  limitsBody,
  lsReply,
  type PinBody,
  pinBody,
  pinsReply,
  providersReply,
  statsReply,
  type TimeoutQuery,
  timeoutQuery,
  unpinReply,
} from './schemas.ts'
import { registerUploadRoutes } from './uploads.ts'

const started = { 200: Type.Ref(transfer), 202: Type.Ref(transfer), ...errorResponses }

function timeoutOf(query: TimeoutQuery): { timeoutMs?: number } {
  return query.timeoutMs === undefined ? {} : { timeoutMs: Number(query.timeoutMs) }
}

function absolute(path: string, what: string): string {
  if (!isAbsolute(path))
    throw new InvalidInputError(`${what} must be an absolute path (the daemon resolves nothing): ${path}`)
  return path
}

export const contentApi: ServiceApi = {
  schemas: [],
  routes: async (app, { node, transfers }) => {
    const content = node.content
    const answer = (reply: { status(code: number): unknown }, view: TransferView) => {
      reply.status(view.state === 'running' ? 202 : 200)
      return view
    }

    app.post<{ Body: AddBody }>(
      '/v1/content',
      {
        schema: {
          summary: 'Add a file or folder from a path on this machine: pins and announces it (a transfer)',
          body: addBody,
          response: started,
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
        return answer(reply, view)
      },
    )

    app.post<{ Params: CidParams; Body: GetBody }>(
      '/v1/content/:cid/get',
      {
        schema: {
          summary:
            'Fetch content from every peer that has it; keeps it and optionally writes it to a path (a transfer)',
          params: cidParams,
          body: getBody,
          response: started,
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
        return answer(reply, view)
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
      async (req) => ({
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
      async (req) => ({
        cid: req.params.cid,
        providers: await content.providers(req.params.cid, timeoutOf(req.query)),
      }),
    )

    app.get(
      '/v1/pins',
      { schema: { summary: 'Content this node keeps, with sizes', response: { 200: pinsReply, ...errorResponses } } },
      async () => {
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
          response: started,
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
        return answer(reply, view)
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
      async (req) => {
        await content.unpin(req.params.cid)
        return { cid: req.params.cid }
      },
    )

    app.post(
      '/v1/gc',
      { schema: { summary: 'Delete every block no pin needs', response: { 200: gcReply, ...errorResponses } } },
      async () => content.gc(),
    )

    app.get(
      '/v1/content/stats',
      {
        schema: {
          summary: 'Rate limits, bytes served to each peer, peers caught sending corrupt blocks',
          response: { 200: statsReply, ...errorResponses },
        },
      },
      async () => ({ ...content.limits(), ...content.stats() }),
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
      async (req) => {
        content.setLimits(req.body)
        return content.limits()
      },
    )
    await registerUploadRoutes(app, node, transfers)
  },
}
