/**
 * The dashboard on the daemon: the page built from `web/` (served from `dist/web`, held in
 * memory with a gzip copy), its one-time login (`lateral ui` asks for a code, the page trades
 * it for the token once) and one-time download links (a browser cannot send the token with a
 * plain link). The page itself then uses only the public API with the token.
 */
import { readdir, readFile } from 'node:fs/promises'
import { extname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { sendFileData } from '../content/api/file-data.ts'
import { UnauthorizedError } from '../core/errors.ts'
import type { LateralNode } from '../node/node.ts'
import { OneTimeCodes } from './one-time.ts'
import { errorResponses } from './schemas.ts'

/** Where `npm run build` puts the page (the same from src/daemon and dist/daemon). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url))

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
}

/** The page may talk to its own origin only; nothing inline but styles; never framed. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ')

interface Asset {
  type: string
  body: Buffer
  gzip: Buffer | undefined
  immutable: boolean
}

async function loadAssets(dir: string): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>()
  let names: string[]
  try {
    names = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => relative(dir, join(e.parentPath, e.name)))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return assets
    throw err
  }
  for (const name of names) {
    const body = await readFile(join(dir, name))
    const type = TYPES[extname(name)] ?? 'application/octet-stream'
    const compressible = type.startsWith('text/') || type.includes('svg') || type.includes('json')
    assets.set(`/${name.split('\\').join('/')}`, {
      type,
      body,
      gzip: compressible && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined,
      immutable: name.startsWith('assets/'),
    })
  }
  return assets
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Lateral</title>
<p>The dashboard is not built. Run <code>npm run build</code> in the Lateral checkout, then restart the daemon.</p>`

/** Issues one-time login paths (`/#login=CODE`) for the page. */
export type LoginIssuer = () => { path: string; expiresAt: number }

export async function registerDashboard(app: FastifyInstance, node: LateralNode, token: string): Promise<LoginIssuer> {
  const assets = await loadAssets(DASHBOARD_DIR)
  const { loginCodeTtlMs, loginCodesMax, downloadLinkTtlMs, downloadLinksMax } = node.config.daemon
  const logins = new OneTimeCodes<true>({ ttlMs: loginCodeTtlMs, max: loginCodesMax })
  const downloads = new OneTimeCodes<{ cid: string; filename: string }>({
    ttlMs: downloadLinkTtlMs,
    max: downloadLinksMax,
  })

  const send = (reply: FastifyReply, asset: Asset, acceptEncoding: string | undefined) => {
    reply.header('content-type', asset.type)
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'no-referrer')
    reply.header('cache-control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    if (asset.type.startsWith('text/html')) {
      reply.header('content-security-policy', CSP)
      reply.header('x-frame-options', 'DENY')
    }
    reply.header('vary', 'accept-encoding')
    if (asset.gzip !== undefined && /\bgzip\b/.test(acceptEncoding ?? '')) {
      reply.header('content-encoding', 'gzip')
      return reply.send(asset.gzip)
    }
    return reply.send(asset.body)
  }

  app.get(
    '/',
    { config: { public: true }, schema: { summary: 'The dashboard page (no token needed)', security: [] } },
    async (req, reply) => {
      const index = assets.get('/index.html')
      if (index === undefined) return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT)
      return send(reply, index, req.headers['accept-encoding'])
    },
  )

  app.get<{ Params: { '*': string } }>(
    '/assets/*',
    { config: { public: true }, schema: { hide: true } },
    async (req, reply) => {
      const asset = assets.get(`/assets/${req.params['*']}`)
      if (asset === undefined) return reply.status(404).type('text/plain').send('not found')
      return send(reply, asset, req.headers['accept-encoding'])
    },
  )

  const issueLogin: LoginIssuer = () => {
    const { code, expiresAt } = logins.issue(true)
    // A fragment never reaches a server log or a Referer header.
    return { path: `/#login=${code}`, expiresAt }
  }

  app.post(
    '/v1/ui/login',
    {
      schema: {
        summary: 'A one-time dashboard login code (what `lateral ui` opens): single use, expires in 2 minutes',
        response: {
          200: {
            type: 'object',
            required: ['path', 'expiresAt'],
            properties: {
              path: { type: 'string', description: 'Append to the API URL: the page trades the code for the token' },
              expiresAt: { type: 'number' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async () => issueLogin(),
  )

  app.post<{ Body: { code: string } }>(
    '/v1/ui/session',
    {
      config: { public: true },
      schema: {
        summary: 'Trade a one-time login code for the API token (no token needed; each code works once)',
        security: [],
        body: {
          type: 'object',
          required: ['code'],
          additionalProperties: false,
          properties: { code: { type: 'string', minLength: 1, maxLength: 64 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['token', 'peerId'],
            properties: { token: { type: 'string' }, peerId: { type: 'string' } },
          },
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      if (logins.redeem(req.body.code) === undefined) {
        throw new UnauthorizedError('this login link was already used or has expired: run `lateral ui` for a new one')
      }
      reply.header('cache-control', 'no-store')
      return { token, peerId: node.peerId }
    },
  )

  app.post<{ Params: { cid: string }; Body: { filename: string } }>(
    '/v1/content/:cid/link',
    {
      schema: {
        summary: 'A one-time download link for a stored file (for browsers, which cannot send the token)',
        params: {
          type: 'object',
          required: ['cid'],
          properties: { cid: { type: 'string', minLength: 1, maxLength: 256 } },
        },
        body: {
          type: 'object',
          required: ['filename'],
          additionalProperties: false,
          properties: { filename: { type: 'string', minLength: 1, maxLength: 255 } },
        },
        response: {
          200: {
            type: 'object',
            required: ['path', 'expiresAt'],
            properties: { path: { type: 'string' }, expiresAt: { type: 'number' } },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      // Fail now, not when the browser follows the link, if the file is not here.
      await node.content.stat(req.params.cid)
      const { code, expiresAt } = downloads.issue({ cid: req.params.cid, filename: req.body.filename })
      return { path: `/dl/${code}`, expiresAt }
    },
  )

  app.get<{ Params: { code: string } }>(
    '/dl/:code',
    {
      config: { public: true },
      schema: {
        summary: 'Follow a one-time download link (no token needed; each link works once)',
        security: [],
        params: {
          type: 'object',
          required: ['code'],
          properties: { code: { type: 'string', maxLength: 64 } },
        },
        produces: ['application/octet-stream'],
      },
    },
    async (req, reply) => {
      const target = downloads.redeem(req.params.code)
      if (target === undefined) throw new UnauthorizedError('this download link was already used or has expired')
      return sendFileData(node, target.cid, target.filename, reply)
    },
  )
  return issueLogin
}
