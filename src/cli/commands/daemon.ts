import type { Command } from 'commander'
import { InvalidInputError } from '../../core/errors.ts'
import { homePaths } from '../../core/home.ts'
import { errorFields } from '../../core/logger.ts'
import { parseBytes } from '../../core/units.ts'
import { assertNoDaemon } from '../../daemon/api-file.ts'
import type { Daemon } from '../../daemon/daemon.ts'
import type { LogLevel } from '../../daemon/logger.ts'
import { keystoreExists, readKeystoreFile, readKeystoreHeader } from '../../identity/keystore.ts'
import { isStreamTeardownError } from '../../net/errors.ts'
import type { ConfigOverrides } from '../../node/config.ts'
import { emit, examples, type Globals, globals, outliveReaders, warn } from '../output.ts'
import { passphraseForUnlock } from '../passphrase.ts'
import { initHome } from './init.ts'

interface DaemonOptions {
  listen: string[]
  api?: string
  bootstrap: string[]
  mdns: boolean
  logLevel: LogLevel
  passphrase?: boolean
  uploadLimit?: number
  downloadLimit?: number
  upnp: boolean
  punch: boolean
  announce: string[]
  relayServer?: boolean
  relayDataLimit?: number
}

const collect = (value: string, previous: string[]): string[] => [...previous, value]

function daemonOptions(cmd: Command): Command {
  return cmd
    .option('--listen <multiaddr>', 'listen address (repeatable; default from config.json)', collect, [])
    .option('--api <host:port>', 'API address (port 0 picks a free port; default 127.0.0.1:5980)')
    .option('--bootstrap <multiaddr>', 'peer to dial at start, with /p2p/ID (repeatable)', collect, [])
    .option('--no-mdns', 'turn off LAN discovery by multicast DNS')
    .option('--upload-limit <rate>', 'bytes per second sent to all peers, e.g. 10M, 512k (0 = unlimited)', byteRate)
    .option('--download-limit <rate>', 'bytes per second received from all peers (0 = unlimited)', byteRate)
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option('--no-upnp', 'do not map a port on the router by UPnP')
    .option('--no-punch', 'do not try TCP hole punching with peers behind NATs')
    .option('--announce <multiaddr>', 'a known public address to announce without AutoNAT (repeatable)', collect, [])
    .option('--relay-server', 'serve as a circuit relay for others (default: only once a public address is confirmed)')
    .option('--no-relay-server', 'never serve as a circuit relay')
    .option(
      '--relay-data-limit <size>',
      'relay server: bytes per relayed connection, e.g. 64M (0 = no limit)',
      byteRate,
    )
}

function byteRate(value: string): number {
  const n = parseBytes(value)
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidInputError(`invalid rate ${JSON.stringify(value)}: give bytes per second, e.g. 1048576, 512k, 10M`)
  return n
}

function overrides(opts: DaemonOptions): ConfigOverrides {
  return {
    ...(opts.listen.length > 0 ? { listen: opts.listen } : {}),
    ...(opts.api === undefined ? {} : { api: opts.api }),
    ...(opts.bootstrap.length > 0 ? { bootstrap: opts.bootstrap } : {}),
    ...(opts.mdns === false ? { mdns: false } : {}),
    ...(opts.upnp === false ? { upnp: false } : {}),
    ...(opts.punch === false ? { punch: false } : {}),
    ...(opts.announce.length > 0 ? { announce: opts.announce } : {}),
    ...(opts.relayServer !== undefined || opts.relayDataLimit !== undefined
      ? {
          relay: {
            ...(opts.relayServer === undefined ? {} : { server: opts.relayServer }),
            ...(opts.relayDataLimit === undefined ? {} : { dataLimitBytes: opts.relayDataLimit }),
          },
        }
      : {}),
    ...(opts.uploadLimit === undefined && opts.downloadLimit === undefined
      ? {}
      : {
          content: {
            ...(opts.uploadLimit === undefined ? {} : { uploadLimit: opts.uploadLimit }),
            ...(opts.downloadLimit === undefined ? {} : { downloadLimit: opts.downloadLimit }),
          },
        }),
  }
}

/** The passphrase the home's keystore needs, if it is protected. */
async function unlockPassphrase(home: string): Promise<string | undefined> {
  const header = readKeystoreHeader(await readKeystoreFile(home))
  return header.protected ? passphraseForUnlock() : undefined
}

/** Run the daemon in the foreground until SIGINT or SIGTERM. */
async function runDaemon(g: Globals, opts: DaemonOptions, passphrase: string | undefined): Promise<void> {
  // Started from a pipe (`lateral daemon 2>&1 | tee log`), it outlives the pipe's reader.
  outliveReaders()
  // Loaded here so that light commands do not pay for libp2p and Fastify at start-up.
  const { startDaemon } = await import('../../daemon/daemon.ts')
  const daemon = await startDaemon({
    home: g.home,
    ...(passphrase === undefined ? {} : { passphrase }),
    config: overrides(opts),
    logLevel: opts.logLevel,
  })
  announce(g, daemon)
  guardProcess(daemon)
  await new Promise<void>((resolve) => {
    let signals = 0
    const onSignal = (signal: NodeJS.Signals) => {
      signals++
      if (signals > 1) {
        warn(`${signal} again: exiting without a clean stop`)
        process.exit(130)
      }
      daemon.stop().then(resolve, (err) => {
        warn(`error while stopping: ${(err as Error).message}`)
        resolve()
      })
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
}

/**
 * A stream torn down under libp2p's own timers must not kill the node: log it. Anything else
 * uncaught is a bug: log it, stop cleanly, exit 1. Unhandled rejections are logged.
 */
function guardProcess(daemon: Daemon): void {
  const log = daemon.logger.forComponent('lateral:daemon')
  process.on('unhandledRejection', (reason) => log.warn('unhandled rejection', errorFields(reason)))
  process.on('uncaughtException', (err) => {
    if (isStreamTeardownError(err)) {
      log.warn('stream closed under a background task', errorFields(err))
      return
    }
    log.error('fatal error, stopping', { ...errorFields(err), stack: err.stack })
    void daemon.stop().finally(() => process.exit(1))
  })
}

function announce(g: Globals, daemon: Daemon): void {
  const { info, node } = daemon
  const addresses = node.net.addresses()
  const dashboard = `${info.url}/`
  emit(g, { peerId: info.peerId, addresses, api: info.url, dashboard, home: g.home, pid: info.pid }, () =>
    [
      `Lateral daemon ${info.peerId}`,
      'Listening on:',
      ...addresses.map((a) => `  ${a}`),
      `API:  ${info.url}   (token in ${homePaths(g.home).api})`,
      `Dashboard: ${dashboard}`,
      `  open it signed in: ${daemon.loginUrl()}`,
      '  (that link works once, for 2 minutes; `lateral ui` makes a new one)',
      `Home: ${g.home}`,
      'Press Ctrl-C to stop.',
    ].join('\n'),
  )
}

export function registerDaemon(program: Command): void {
  daemonOptions(
    program.command('daemon').description('run this node in the foreground with its HTTP API; Ctrl-C stops it cleanly'),
  )
    .addHelpText(
      'after',
      examples(
        'lateral daemon',
        'lateral daemon --listen /ip4/127.0.0.1/tcp/0 --api 127.0.0.1:0 --no-mdns',
        'lateral daemon --bootstrap /ip4/192.168.1.20/tcp/4001/p2p/12D3KooWAbc...',
      ),
    )
    .action(async (opts: DaemonOptions, cmd: Command) => {
      const g = globals(cmd)
      await assertNoDaemon(g.home)
      await runDaemon(g, opts, await unlockPassphrase(g.home))
    })

  daemonOptions(
    program
      .command('start')
      .description('`lateral init` when the home has no device key yet, then `lateral daemon`')
      .option('--no-passphrase', 'when creating the key, store it without a passphrase (warns)'),
  )
    .addHelpText('after', examples('lateral start', 'LATERAL_HOME=/tmp/n1 lateral start --api 127.0.0.1:0'))
    .action(async (opts: DaemonOptions, cmd: Command) => {
      const g = globals(cmd)
      await assertNoDaemon(g.home)
      let passphrase: string | undefined
      if (await keystoreExists(g.home)) {
        passphrase = await unlockPassphrase(g.home)
      } else {
        const created = await initHome({ ...g, json: false }, opts.passphrase === false)
        warn(`Created device key ${created.peerId} in ${created.home}`)
        passphrase = created.passphrase
      }
      await runDaemon(g, opts, passphrase)
    })
}
