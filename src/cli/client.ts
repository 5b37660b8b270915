/** The CLI's client of the daemon API: finds it through the home's api.json. */
import { errorByCode } from '../core/error-registry.ts'
import * as errors from '../core/errors.ts'
import { homePaths } from '../core/home.ts'
import { type ApiInfo, readApiFile } from '../daemon/api-file.ts'
import type { ErrorReply } from '../daemon/schemas.ts'

export class ApiClient {
  readonly info: ApiInfo
  constructor(info: ApiInfo) {
    this.info = info
  }

  /** The client of the daemon running for `home`, or DaemonNotRunningError. */
  static async forHome(home: string): Promise<ApiClient> {
    const info = await readApiFile(homePaths(home).api)
    if (info === undefined) throw notRunning(home)
    return new ApiClient(info)
  }

  async get<T>(path: string, options: { signal?: AbortSignal } = {}): Promise<T> {
    return this.request<T>('GET', path, undefined, options)
  }

  async post<T>(path: string, body: unknown, options: { signal?: AbortSignal } = {}): Promise<T> {
    return this.request<T>('POST', path, body, options)
  }

  async delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path)
  }

  /** A GET whose body is read by the caller (streams of bytes). Errors as for `request`. */
  async raw(path: string, options: { signal?: AbortSignal } = {}): Promise<Response> {
    let res: Response
    try {
      res = await fetch(`${this.info.url}${path}`, {
        headers: { authorization: `Bearer ${this.info.token}` },
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      })
    } catch (err) {
      throw new errors.DaemonNotRunningError(`no daemon answers at ${this.info.url}: ${(err as Error).message}`)
    }
    if (!res.ok) throw toError(res.status, safeJson(await res.text()))
    return res
  }

  async request<T>(method: string, path: string, body?: unknown, options: { signal?: AbortSignal } = {}): Promise<T> {
    let res: Response
    try {
      res = await fetch(`${this.info.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.info.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      })
    } catch (err) {
      if (options.signal?.aborted === true) throw new errors.AbortedError('cancelled')
      throw new errors.DaemonNotRunningError(
        `no daemon answers at ${this.info.url} (${(err as Error).cause ?? (err as Error).message}): start it with \`lateral daemon\``,
      )
    }
    const text = await res.text()
    const parsed = text === '' ? undefined : safeJson(text)
    if (!res.ok) throw toError(res.status, parsed)
    return (parsed ?? text) as T
  }
}

function notRunning(home: string): Error {
  return new errors.DaemonNotRunningError(`no daemon is running for ${home}: start it with \`lateral daemon\``)
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Rebuild the daemon's error as the same class, so the CLI exits with the registry's code. */
function toError(status: number, body: unknown): Error {
  // Anything may answer (a proxy, an older daemon): read the registry's error body defensively.
  const e = (body as { error?: Partial<ErrorReply['error']> } | undefined)?.error
  return rebuildError(e, `the daemon answered HTTP ${status}`)
}

/** An error reported by the daemon (`{ name, code, message }`) as the same class. */
export function rebuildError(e: { code?: string; message?: string } | undefined, fallback = 'failed'): Error {
  const entry = e?.code === undefined ? undefined : errorByCode(e.code)
  const Ctor = entry === undefined ? undefined : (errors as Record<string, unknown>)[entry.name]
  const message = e?.message ?? fallback
  if (typeof Ctor === 'function') return new (Ctor as new (m: string) => Error)(message)
  return new errors.LateralError(message)
}
