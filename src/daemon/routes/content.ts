/** Routes of the content service: add, get, ls, data, providers, pins, GC, and transfers. */
import { isAbsolute } from 'node:path'
import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { InvalidInputError } from '../../core/errors.ts'
import type { LateralNode } from '../../node/node.ts'
import {
  addBody,
  cidParams,
  dataQuery,
  gcReply,
  getBody,
  idParams,
  lsQuery,
  lsReply,
  pinBody,
  pinsReply,
  providersReply,
  statsReply,
} from '../content-schemas.ts'
import type { EventHub } from '../events.ts'
import { errorResponses } from '../schemas.ts'
import { loggerFromPino, Transfers, type TransferView } from '../transfers.ts'

interface AddBody {
  path: string
  cidVersion?: 0 | 1
  chunker?: string
  rawLeaves?: boolean
  onlyHash?: boolean
  wait?: boolean
}

interface GetBody {
  output?: string
  pin?: boolean
  timeoutMs?: number
  wait?: boolean
}

const transferReply = { $ref: 'Transfer#' }
const started = { 200: transferReply, 202: transferReply, ...errorResponses }

function timeoutOf(query: { timeoutMs?: string }): { timeoutMs?: number } {
  return query.timeoutMs === undefined ? {} : { timeoutMs: Number(query.timeoutMs) }
}

function absolute(path: string, what: string): string {
  if (!isAbsolute(path))
    throw new InvalidInputError(`${what} must be an absolute path (the daemon resolves nothing): ${path}`)
  return path
}

/** Answer with a stored file's bytes; `filename` offers them as a download. */
export async function sendFileData(
  node: LateralNode,
  cid: string,
  filename: string | undefined,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const info = await node.content.stat(cid)
  if (info.type !== 'file') throw new InvalidInputError(`${cid} is a folder: list it, or get it with an output path`)
  const iterator = node.content.cat(cid)[Symbol.asyncIterator]()
  // Read the first chunk before answering, so a missing block is an error reply, not a cut stream.
  const first = await iterator.next()
  reply.header('content-type', 'application/octet-stream')
  reply.header('content-length', String(info.size))
  if (filename !== undefined)
    reply.header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`)
  return reply.send(
    Readable.from(
      (async function* () {
        try {
          if (first.done !== true) yield first.value
          for (;;) {
            const next = await iterator.next()
            if (next.done === true) return
            yield next.value
          }
        } finally {
          // A client that hangs up ends the read too (it releases the content it protected from gc).
          await iterator.return?.(undefined)
        }
      })(),
    ),
  )
}

export function registerContentRoutes(app: FastifyInstance, node: LateralNode, hub: EventHub): Transfers {
  const content = node.content
  const transfers = new Transfers(hub, loggerFromPino(app.log.child({ component: 'lateral:transfers' })))
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

  app.post<{ Params: { cid: string }; Body: GetBody }>(
    '/v1/content/:cid/get',
    {
      schema: {
        summary: 'Fetch content from every peer that has it; keeps it and optionally writes it to a path (a transfer)',
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

  app.get<{ Params: { cid: string }; Querystring: { timeoutMs?: string } }>(
    '/v1/content/:cid',
    {
      schema: {
        summary: "A folder's entries with sizes (or the file itself); missing blocks are fetched from peers",
        params: cidParams,
        querystring: lsQuery,
        response: { 200: lsReply, ...errorResponses },
      },
    },
    async (req) => ({
      cid: req.params.cid,
      entries: await content.ls(req.params.cid, timeoutOf(req.query)),
    }),
  )

  app.get<{ Params: { cid: string }; Querystring: { filename?: string } }>(
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

  app.get<{ Params: { cid: string }; Querystring: { timeoutMs?: string } }>(
    '/v1/content/:cid/providers',
    {
      schema: {
        summary: 'Peers that have the content: connected peers asked directly, and DHT provider records',
        params: cidParams,
        querystring: lsQuery,
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

  app.post<{ Params: { cid: string }; Body: { timeoutMs?: number; wait?: boolean } }>(
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

  app.delete<{ Params: { cid: string } }>(
    '/v1/pins/:cid',
    {
      schema: {
        summary: 'Stop keeping content (its blocks go at the next GC)',
        params: cidParams,
        response: { 200: { type: 'object', properties: { cid: { type: 'string' } } }, ...errorResponses },
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

  app.post<{ Body: { uploadLimit?: number; downloadLimit?: number } }>(
    '/v1/content/limits',
    {
      schema: {
        summary: 'Change the upload and download limits of the running node (bytes per second, 0 = unlimited)',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            uploadLimit: { type: 'integer', minimum: 0 },
            downloadLimit: { type: 'integer', minimum: 0 },
          },
        },
        response: {
          200: { type: 'object', properties: { uploadLimit: { type: 'number' }, downloadLimit: { type: 'number' } } },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      content.setLimits(req.body)
      return content.limits()
    },
  )

  app.get(
    '/v1/transfers',
    {
      schema: {
        summary: 'Running and recent transfers',
        response: {
          200: {
            type: 'object',
            required: ['transfers'],
            properties: { transfers: { type: 'array', items: transferReply } },
          },
          ...errorResponses,
        },
      },
    },
    async () => ({ transfers: transfers.list() }),
  )

  app.get<{ Params: { id: string } }>(
    '/v1/transfers/:id',
    { schema: { summary: 'One transfer', params: idParams, response: { 200: transferReply, ...errorResponses } } },
    async (req) => transfers.get(req.params.id),
  )

  app.delete<{ Params: { id: string } }>(
    '/v1/transfers/:id',
    {
      schema: {
        summary: 'Cancel a transfer (a cancelled get leaves no partial output)',
        params: idParams,
        response: { 200: transferReply, ...errorResponses },
      },
    },
    async (req) => transfers.cancel(req.params.id),
  )

  app.get<{ Params: { id: string } }>(
    '/v1/transfers/:id/events',
    {
      schema: {
        summary:
          'Server-sent events of one transfer: hello (its state now), transfer:progress, then transfer:done or transfer:failed',
        params: idParams,
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

  return transfers
}
