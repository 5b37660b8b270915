/**
 * One daemon per home: a started node, its HTTP API on loopback, `api.json` written once ready.
 *
 * @example
 * ```ts
 * const daemon = await startDaemon({ home, passphrase })
 * console.log(daemon.info.url)
 * await daemon.stop()
 * ```
 */
import { mkdir } from 'node:fs/promises'
import { setFlagsFromString } from 'node:v8'
import type { FastifyInstance } from 'fastify'
import { AddressInUseError, InvalidInputError } from '../core/errors.ts'
import { homePaths } from '../core/home.ts'
import { errorFields } from '../core/logger.ts'
import { type ConfigOverrides, parseHostPort } from '../node/config.ts'
import { createNode, type LateralNode } from '../node/node.ts'
import { buildApi } from './api.ts'
import { type ApiInfo, assertNoDaemon, loadOrCreateToken, removeApiFile, writeApiFile } from './api-file.ts'
import { createDaemonLogger, type DaemonLogger, type LogLevel } from './logger.ts'

export interface DaemonInit {
  home: string
  passphrase?: string
  /** Settings over config.json (command-line flags). */
  config?: ConfigOverrides
  logLevel?: LogLevel
  /** Readable log lines on stderr (default true). */
  stderr?: boolean
}

export interface Daemon {
  readonly node: LateralNode
  readonly info: ApiInfo
  readonly logger: DaemonLogger
  /** A one-time dashboard login URL: works once, for two minutes. */
  loginUrl(): string
  stop(): Promise<void>
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

/** Fastify's per-request lines are noise at info level; the API logs warnings and errors. */
function apiLogger(logger: DaemonLogger) {
  const level = logger.pino.level === 'debug' ? 'debug' : 'warn'
  return logger.pino.child({ component: 'lateral:api' }, { level })
}

export async function startDaemon(init: DaemonInit): Promise<Daemon> {
  const paths = homePaths(init.home)
  await assertNoDaemon(init.home)
  await mkdir(paths.home, { recursive: true, mode: 0o700 })
  const token = await loadOrCreateToken(paths.apiToken)
  const logger = createDaemonLogger({
    logsDir: paths.logs,
    level: init.logLevel ?? 'info',
    stderr: init.stderr ?? true,
  })
  const log = logger.forComponent('lateral:daemon')
  const t0 = performance.now()
  const node = await createNode({
    home: init.home,
    ...(init.passphrase === undefined ? {} : { passphrase: init.passphrase }),
    config: init.config ?? {},
    logger,
  }).catch((err: unknown) => {
    logger.close()
    throw err
  })
  // A process-wide V8 setting, read at every full collection: the daemon owns its process.
  if (node.config.daemon.heapGrowingPercent > 0) {
    setFlagsFromString(`--heap-growing-percent=${node.config.daemon.heapGrowingPercent}`)
  }
  let app: FastifyInstance | undefined
  let info: ApiInfo
  try {
    const api = parseHostPort(node.config.api)
    if (api === undefined) throw new InvalidInputError(`invalid API address ${node.config.api}: expected host:port`)
    if (!LOOPBACK.has(api.host)) {
      log.warn('the API listens beyond loopback; anyone with the token controls this node', { host: api.host })
    }
    app = await buildApi({ node, token, logger: apiLogger(logger) })
    await app.listen({ host: api.host, port: api.port }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES') {
        throw new AddressInUseError(
          `cannot serve the API on ${node.config.api} (${err.code}): another daemon may use it; pass --api 127.0.0.1:0 for a free port`,
        )
      }
      throw err
    })
    const bound = app.server.address()
    const port = typeof bound === 'object' && bound !== null ? bound.port : api.port
    const host = api.host.includes(':') ? `[${api.host}]` : api.host
    info = {
      url: `http://${host}:${port}`,
      host: api.host,
      port,
      token,
      pid: process.pid,
      peerId: node.peerId,
      startedAt: node.startedAt,
    }
    await writeApiFile(paths.api, info)
  } catch (err) {
    await app?.close()
    await node.stop()
    logger.close()
    throw err
  }
  log.info('daemon ready', { url: info.url, peerId: node.peerId, startMs: Math.round(performance.now() - t0) })

  let stopping: Promise<void> | undefined
  const server = app
  return {
    node,
    info,
    logger,
    loginUrl: () => `${info.url}${server.dashboardLogin().path}`,
    stop() {
      stopping ??= (async () => {
        log.info('daemon stopping')
        await removeApiFile(paths.api)
        try {
          await server.close()
        } catch (err) {
          log.warn('API close failed', errorFields(err))
        }
        try {
          await node.stop()
          log.info('daemon stopped')
        } finally {
          logger.close()
        }
      })()
      return stopping
    },
  }
}
