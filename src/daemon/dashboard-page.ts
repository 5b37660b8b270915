/**
 * The dashboard page on the daemon: the files built from `web/` (served from `dist/web`), held
 * in memory with a gzip copy, answered with a strict content policy. The page itself then uses
 * only the public API with the token.
 */
import { readdir, readFile } from 'node:fs/promises'
import { extname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import type { FastifyInstance, FastifyReply } from 'fastify'

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

function send(reply: FastifyReply, asset: Asset, acceptEncoding: string | undefined): FastifyReply {
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

/** `/` and `/assets/*`, public (the page holds no secret; it asks for the token). */
export async function registerDashboardPage(app: FastifyInstance, dir = DASHBOARD_DIR): Promise<void> {
  const assets = await loadAssets(dir)

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
}
