/**
 * The daemon's HTTP API on Fastify. Routes map 1:1 to node operations; every route but
 * `/health` needs the bearer token; errors go through the one registry.
 *
 * @example
 * ```ts
 * const app = await buildApi({ node, token })
 * const res = await app.inject({ url: '/v1/id', headers: { authorization: `Bearer ${token}` } })
 * ```
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import swagger from '@fastify/swagger'
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify'
import { VERSION } from '../core/constants.ts'
import { errorEntry } from '../core/error-registry.ts'
import { NotFoundError, UnauthorizedError } from '../core/errors.ts'
import type { LateralNode } from '../node/node.ts'
import { SERVICES } from '../node/registry.ts'
import { type LoginIssuer, registerDashboard } from './dashboard.ts'
import { EventHub } from './events.ts'
import { nodeRoutes } from './routes/node.ts'
import { transferRoutes } from './routes/transfers.ts'
import { sharedSchemas } from './schemas.ts'
import type { RouteContext } from './service-api.ts'
import { SERVICE_APIS } from './service-routes.ts'
import { loggerFromPino, Transfers } from './transfers.ts'

export interface ApiInit {
  node: LateralNode
  /** Bearer token every route but `/health` requires. */
  token: string
  logger?: FastifyBaseLogger
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes reachable without the token. */
    public?: boolean
  }
  interface FastifyInstance {
    /** A one-time dashboard login path, as POST /v1/ui/login gives. */
    dashboardLogin: LoginIssuer
  }
}

export async function buildApi(init: ApiInit): Promise<FastifyInstance> {
  const { node } = init
  const app = Fastify({
    ...(init.logger === undefined ? { logger: false } : { loggerInstance: init.logger }),
    bodyLimit: node.config.daemon.bodyLimitBytes,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  })
  const settings = node.config.daemon
  const hub = new EventHub(node, {
    maxClientBufferBytes: settings.eventBufferBytes,
    dropGraceMs: settings.eventDropGraceMs,
    heartbeatMs: settings.eventHeartbeatMs,
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Lateral daemon API',
        version: VERSION,
        description:
          'Control one Lateral node. Every route but /health needs `Authorization: Bearer <token>` (from api.json).',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
  })
  for (const schema of sharedSchemas) app.addSchema(schema)
  for (const service of SERVICES) for (const schema of SERVICE_APIS[service.name].schemas) app.addSchema(schema)

  const expected = digest(init.token)
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config.public === true) return
    const header = req.headers.authorization
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : undefined
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      throw new UnauthorizedError('missing or wrong API token: send "Authorization: Bearer <token>" (see api.json)')
    }
  })

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const name = classify(err)
    const entry = errorEntry(name)
    if (entry.status >= 500) req.log.error({ err }, 'request failed')
    const message = entry.name === 'InternalError' ? 'internal error (see the daemon log)' : err.message
    return reply.status(entry.status).send({ error: { name: entry.name, code: entry.code, message } })
  })
  app.setNotFoundHandler((req) => {
    throw new NotFoundError(`no route ${req.method} ${req.url}`)
  })
  app.addHook('preClose', async () => hub.close())

  const transfers = new Transfers(hub, loggerFromPino(app.log.child({ component: 'lateral:transfers' })), {
    keep: settings.transfersKept,
    progressEveryMs: settings.transferProgressMs,
  })
  app.addHook('preClose', async () => transfers.cancelAll())
  const context: RouteContext = { node, hub, transfers }
  await app.register(nodeRoutes, context)
  await app.register(transferRoutes, context)
  for (const service of SERVICES) await app.register(SERVICE_APIS[service.name].routes, context)
  app.decorate('dashboardLogin', await registerDashboard(app, node, init.token))

  app.get(
    '/v1/events',
    {
      schema: {
        summary: 'Server-sent events: peers, addresses, topic messages, direct messages, transfers (docs/api.md)',
        produces: ['text/event-stream'],
      },
    },
    (req, reply) => {
      reply.hijack()
      hub.attach(req.raw, reply.raw, { peerId: node.peerId })
    },
  )

  app.get(
    '/v1/openapi.json',
    {
      schema: { hide: true },
    },
    async () => app.swagger(),
  )

  app.get(
    '/metrics',
    {
      schema: { summary: 'Prometheus text format: libp2p and process metrics', produces: ['text/plain'] },
    },
    async (_req, reply) => {
      reply.type('text/plain; version=0.0.4; charset=utf-8')
      return node.net.metricsText()
    },
  )

  await app.ready()
  return app
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

/** The registry name for an error thrown in a route, including Fastify's own client errors. */
function classify(err: FastifyError): string {
  if (err.validation !== undefined) return 'InvalidInputError'
  if (err.name !== 'Error' && err.name !== 'FastifyError' && !err.code?.startsWith('FST_')) return err.name
  const status = err.statusCode ?? 500
  if (status === 404) return 'NotFoundError'
  if (status >= 400 && status < 500) return 'InvalidInputError'
  return 'InternalError'
}
