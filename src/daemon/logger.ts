/**
 * The daemon's logger: pino, JSON lines to `<home>/logs/daemon.log` and one readable line per
 * record to stderr. Exposed to the rest of the node as Lateral's ComponentLogger.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import pino, { type Logger as Pino } from 'pino'
import type { ComponentLogger, LogFields, Logger } from '../core/logger.ts'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface DaemonLoggerInit {
  /** Folder of the log file; no file when undefined. */
  logsDir?: string
  level?: LogLevel
  /** Also write readable lines to stderr. */
  stderr?: boolean
}

export interface DaemonLogger extends ComponentLogger {
  readonly pino: Pino
  flush(): void
  /** Flush, and stop watching stderr (the daemon has stopped). */
  close(): void
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
}

/**
 * One readable line per pino record: `12:00:01.123 INFO  lateral:net network started peerId=...`.
 * Nothing once stderr is closed (its reader went away): the log file goes on.
 */
function readableStderr(): { write(line: string): void } {
  return {
    write(line: string) {
      if (!process.stderr.writable) return
      try {
        const { time, level, component, msg, pid: _pid, hostname: _host, ...rest } = JSON.parse(line)
        const fields = Object.entries(rest)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ')
        const stamp = new Date(time as number).toISOString().slice(11, 23)
        process.stderr.write(
          `${stamp} ${LEVEL_NAMES[level as number] ?? level} ${component ?? 'lateral'} ${msg ?? ''}${fields === '' ? '' : ` ${fields}`}\n`,
        )
      } catch {
        process.stderr.write(line)
      }
    },
  }
}

export function createDaemonLogger(init: DaemonLoggerInit = {}): DaemonLogger {
  const level = init.level ?? 'info'
  const streams: pino.StreamEntry[] = []
  if (init.stderr !== false) streams.push({ level, stream: readableStderr() })
  let file: pino.DestinationStream | undefined
  if (init.logsDir !== undefined) {
    mkdirSync(init.logsDir, { recursive: true, mode: 0o700 })
    file = pino.destination({ dest: join(init.logsDir, 'daemon.log'), sync: true, mode: 0o600 })
    streams.push({ level, stream: file })
  }
  const root = pino({ level, base: { pid: process.pid } }, pino.multistream(streams))
  // A reader of stderr that goes away (a closed pipe) stops the readable lines, not the daemon.
  const onStderrError = (err: NodeJS.ErrnoException) =>
    root.warn(
      { component: 'lateral:daemon', code: err.code },
      'stderr closed: readable log lines stop; the log file goes on',
    )
  if (init.stderr !== false) process.stderr.once('error', onStderrError)
  return {
    pino: root,
    forComponent(name: string): Logger {
      const child = root.child({ component: name })
      return {
        debug: (msg: string, fields?: LogFields) => child.debug(fields ?? {}, msg),
        info: (msg: string, fields?: LogFields) => child.info(fields ?? {}, msg),
        warn: (msg: string, fields?: LogFields) => child.warn(fields ?? {}, msg),
        error: (msg: string, fields?: LogFields) => child.error(fields ?? {}, msg),
      }
    },
    flush() {
      root.flush()
    },
    close() {
      root.flush()
      process.stderr.off('error', onStderrError)
    },
  }
}
