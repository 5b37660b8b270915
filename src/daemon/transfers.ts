/**
 * Long operations of the daemon (adding a path, getting a CID, pinning) as transfers with an ID:
 * started by a request, followed on the event stream (`transfer:*` events, or one transfer's
 * own stream), cancelled with DELETE. Finished transfers are kept for a while for the dashboard.
 */
import { randomBytes } from 'node:crypto'
import { DEFAULT_TRANSFER_PROGRESS_MS, DEFAULT_TRANSFERS_KEPT } from '../core/constants.ts'
import { errorEntry } from '../core/error-registry.ts'
import { AbortedError, NotFoundError } from '../core/errors.ts'
import { type Logger, silentLogger } from '../core/logger.ts'
import type { EventHub, LiveEvent } from './events.ts'
import type { TransferView } from './schemas.ts'

export type { TransferView }
export type TransferKind = TransferView['kind']
export type TransferState = TransferView['state']

export interface TransfersInit {
  /** Finished transfers kept in the list (DEFAULT_TRANSFERS_KEPT). */
  keep?: number
  /** Progress events per transfer at most this often (DEFAULT_TRANSFER_PROGRESS_MS). */
  progressEveryMs?: number
}

interface Entry {
  view: TransferView
  controller: AbortController
  lastEmit: number
}

/**
 * A pino-style logger (Fastify's `app.log`: fields first, then the message) as Lateral's Logger.
 */
export interface PinoLike {
  debug(fields: object, message: string): void
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
}

export function loggerFromPino(log: PinoLike): Logger {
  return {
    debug: (message, fields) => log.debug(fields ?? {}, message),
    info: (message, fields) => log.info(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
  }
}

export class Transfers {
  readonly #hub: Pick<EventHub, 'publish'>
  readonly #log: Logger
  readonly #entries = new Map<string, Entry>()
  readonly #keep: number
  readonly #progressEveryMs: number

  /** `log` records every failed transfer with its ID and cause (the API's error points there). */
  constructor(
    hub: Pick<EventHub, 'publish'>,
    log: Logger = silentLogger.forComponent('lateral:transfers'),
    init: TransfersInit = {},
  ) {
    this.#hub = hub
    this.#log = log
    this.#keep = init.keep ?? DEFAULT_TRANSFERS_KEPT
    this.#progressEveryMs = init.progressEveryMs ?? DEFAULT_TRANSFER_PROGRESS_MS
  }

  /**
   * Start an operation; `run` gets the transfer's signal and a progress callback.
   * Resolves with the running transfer's view (or the final one when `wait`).
   */
  async start<R>(
    init: { kind: TransferKind; cid?: string; path?: string },
    run: (signal: AbortSignal, onProgress: (p: unknown) => void) => Promise<R & { cid?: string }>,
    wait = false,
  ): Promise<TransferView> {
    const id = randomBytes(8).toString('hex')
    const entry: Entry = {
      view: { id, ...init, state: 'running', startedAt: Date.now() },
      controller: new AbortController(),
      lastEmit: 0,
    }
    this.#entries.set(id, entry)
    this.#emit('transfer:start', entry)
    const done = run(entry.controller.signal, (p) => this.#progress(entry, p)).then(
      (result) => this.#finish(entry, 'done', result),
      (err: Error) => this.#finish(entry, entry.controller.signal.aborted ? 'cancelled' : 'failed', undefined, err),
    )
    if (wait) {
      await done
      if (entry.view.state !== 'done') throw rebuild(entry.view)
    }
    return { ...entry.view }
  }

  list(): TransferView[] {
    return [...this.#entries.values()].map((e) => ({ ...e.view }))
  }

  get(id: string): TransferView {
    return { ...this.#entry(id).view }
  }

  cancel(id: string): TransferView {
    const entry = this.#entry(id)
    if (entry.view.state === 'running') entry.controller.abort(new AbortedError('cancelled'))
    return { ...entry.view }
  }

  /** Cancel everything running (the daemon is stopping). */
  cancelAll(): void {
    for (const e of this.#entries.values()) if (e.view.state === 'running') e.controller.abort()
  }

  /** Whether an event belongs to this transfer / ends it (for its own event stream). */
  static concerns(id: string): (event: LiveEvent) => boolean {
    return (event) => event.type.startsWith('transfer:') && (event.data as TransferView).id === id
  }

  static ends(id: string): (event: LiveEvent) => boolean {
    return (event) => Transfers.concerns(id)(event) && (event.data as TransferView).state !== 'running'
  }

  #entry(id: string): Entry {
    const entry = this.#entries.get(id)
    if (entry === undefined) throw new NotFoundError(`no transfer ${id}`)
    return entry
  }

  #progress(entry: Entry, progress: unknown): void {
    entry.view.progress = progress
    const now = Date.now()
    if (now - entry.lastEmit < this.#progressEveryMs) return
    entry.lastEmit = now
    this.#emit('transfer:progress', entry)
  }

  #finish(entry: Entry, state: TransferState, result?: { cid?: string }, err?: Error): void {
    entry.view.state = state
    entry.view.endedAt = Date.now()
    if (result !== undefined) {
      entry.view.result = result
      if (result.cid !== undefined) entry.view.cid = result.cid
    }
    if (err !== undefined) {
      const e = errorEntry(err.name)
      const internal = e.name === 'InternalError'
      entry.view.error = {
        name: e.name,
        code: e.code,
        message:
          state === 'cancelled'
            ? 'cancelled'
            : internal
              ? `internal error (see the daemon log, transfer ${entry.view.id})`
              : err.message,
      }
      this.#logEnd(entry.view, err, internal)
    }
    this.#emit(state === 'done' ? 'transfer:done' : 'transfer:failed', entry)
    this.#prune()
  }

  /** A failure goes to the log with the transfer's ID and its cause (a stack for unexpected ones). */
  #logEnd(view: TransferView, err: Error, internal: boolean): void {
    const fields = {
      transferId: view.id,
      kind: view.kind,
      ...(view.cid === undefined ? {} : { cid: view.cid }),
      ...(view.path === undefined ? {} : { path: view.path }),
      err: { name: err.name, message: err.message, ...(internal ? { stack: err.stack } : {}) },
      ...(err.cause === undefined ? {} : { cause: String(err.cause) }),
    }
    if (view.state === 'cancelled') this.#log.info('transfer cancelled', fields)
    else if (internal) this.#log.error('transfer failed', fields)
    else this.#log.warn('transfer failed', fields)
  }

  #emit(type: string, entry: Entry): void {
    this.#hub.publish({ type, data: { ...entry.view } })
  }

  #prune(): void {
    const finished = [...this.#entries.values()].filter((e) => e.view.state !== 'running')
    for (const e of finished.slice(0, Math.max(0, finished.length - this.#keep))) this.#entries.delete(e.view.id)
  }
}

/** A failed transfer as the error it failed with (so `wait` answers like any request). */
function rebuild(view: TransferView): Error {
  const err = new Error(view.error?.message ?? 'failed')
  err.name = view.state === 'cancelled' ? 'AbortedError' : (view.error?.name ?? 'InternalError')
  return err
}
