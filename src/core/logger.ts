/**
 * The logging contract of every component: an injected, scoped logger. Library code never
 * writes to the terminal; the daemon backs this with pino (stderr and `logs/`).
 */

export type LogFields = Record<string, unknown>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

export interface ComponentLogger {
  forComponent(name: string): Logger
}

const noop = (): void => {}
const silent: Logger = { debug: noop, info: noop, warn: noop, error: noop }

/** A logger that drops everything: the library default. */
export const silentLogger: ComponentLogger = { forComponent: () => silent }

/** Turn an unknown thrown value into loggable fields without losing the error's name. */
export function errorFields(err: unknown): LogFields {
  if (err instanceof Error) return { err: { name: err.name, message: err.message } }
  return { err: String(err) }
}
