/**
 * The page's only way to the node: the daemon's public HTTP API with the bearer token, and its
 * event stream. Errors come back as the registry's entries, so every view can say what went
 * wrong in words; a daemon that does not answer is a state of its own, not an error.
 */
import { ERRORS } from '../../src/core/error-registry.ts'
import { parseSse } from '../../src/core/sse.ts'
import type { ErrorReply, SessionBody, SessionReply } from '../../src/daemon/schemas.ts'
import { Store } from './store.ts'

const TOKEN_KEY = 'lateral.token'

export type Connection = 'connecting' | 'online' | 'unreachable' | 'signed-out'

/** Whether the daemon answers and accepts our token; views show a banner from this. */
export const connection = new Store<{ state: Connection; since: number; detail?: string }>({
  state: 'connecting',
  since: Date.now(),
})

function setConnection(state: Connection, detail?: string): void {
  if (connection.value.state === state && connection.value.detail === detail) return
  connection.set({ state, since: Date.now(), ...(detail === undefined ? {} : { detail }) })
}

export class ApiError extends Error {
  readonly code: string
  readonly status: number
  /** The registry's one-line explanation of this kind of error. */
  readonly summary: string

  constructor(name: string, code: string, message: string, status: number) {
    super(message)
    this.name = name
    this.code = code
    this.status = status
    this.summary = ERRORS[name]?.summary ?? 'the daemon refused the request'
  }
}

export class UnreachableError extends Error {
  override name = 'UnreachableError'
}

export function token(): string | undefined {
  return localStorage.getItem(TOKEN_KEY) ?? undefined
}

export function signOut(): void {
  localStorage.removeItem(TOKEN_KEY)
  setConnection('signed-out')
}

/** Trade the one-time code of a login link (`#login=...`) for the token. */
export async function redeemLogin(code: string): Promise<void> {
  const res = (await request('POST', '/v1/ui/session', { code } satisfies SessionBody, false)) as SessionReply
  localStorage.setItem(TOKEN_KEY, res.token)
  setConnection('online')
}

async function request(method: string, path: string, body: unknown, auth: boolean, raw?: BodyInit): Promise<unknown> {
  const headers: Record<string, string> = {}
  const t = token()
  if (auth && t !== undefined) headers.authorization = `Bearer ${t}`
  let payload: BodyInit | undefined = raw
  if (body !== undefined) {
    headers['content-type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  let res: Response
  try {
    res = await fetch(path, { method, headers, ...(payload === undefined ? {} : { body: payload }) })
  } catch (err) {
    setConnection('unreachable', (err as Error).message)
    throw new UnreachableError('the daemon does not answer')
  }
  const text = await res.text()
  const json = text === '' ? undefined : safeJson(text)
  if (!res.ok) {
    const e = (json as Partial<ErrorReply> | undefined)?.error
    if (res.status === 401 && auth) setConnection('signed-out', e?.message)
    else if (res.status >= 502 && e === undefined) setConnection('unreachable', `HTTP ${res.status}`)
    if (e !== undefined) throw new ApiError(e.name, e.code, e.message, res.status)
    throw new ApiError('InternalError', 'LAT_ERR_INTERNAL', `HTTP ${res.status} ${res.statusText}`, res.status)
  }
  if (auth) setConnection('online')
  return json
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

export const api = {
  get: <T>(path: string) => request('GET', path, undefined, true) as Promise<T>,
  post: <T>(path: string, body: unknown = {}) => request('POST', path, body, true) as Promise<T>,
  delete: <T>(path: string) => request('DELETE', path, undefined, true) as Promise<T>,
}

/**
 * PUT bytes with upload progress (fetch cannot report it, XMLHttpRequest can).
 * Resolves with the reply; rejects with ApiError or UnreachableError.
 */
export function upload<T>(path: string, body: Blob, onProgress: (sent: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('PUT', path)
    xhr.setRequestHeader('authorization', `Bearer ${token() ?? ''}`)
    xhr.setRequestHeader('content-type', 'application/octet-stream')
    xhr.upload.onprogress = (e) => onProgress(e.loaded)
    xhr.onerror = () => {
      setConnection('unreachable')
      reject(new UnreachableError('the daemon does not answer'))
    }
    xhr.onload = () => {
      const json = safeJson(xhr.responseText) as Partial<ErrorReply> | undefined
      if (xhr.status >= 200 && xhr.status < 300) resolve(json as T)
      else if (json?.error !== undefined)
        reject(new ApiError(json.error.name, json.error.code, json.error.message, xhr.status))
      else reject(new ApiError('InternalError', 'LAT_ERR_INTERNAL', `HTTP ${xhr.status}`, xhr.status))
    }
    xhr.send(body)
  })
}

export interface LiveEvent {
  type: string
  data: unknown
}

type Listener = (event: LiveEvent) => void
const listeners = new Set<Listener>()

/** Listen to the daemon's events (peers, messages, transfers); returns the unsubscribe. */
export function onEvent(listener: Listener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

/**
 * Keep one event stream open for the life of the page. EventSource cannot send the token,
 * so this reads the stream with fetch. When the daemon goes away the page says so and
 * tries again every second; once back, every view reloads what it shows (`reconnected`).
 */
export function startEvents(): void {
  let attempt = 0
  const loop = async () => {
    for (;;) {
      if (token() === undefined) {
        setConnection('signed-out')
        await new Promise<void>((resolve) => {
          const off = connection.subscribe((c) => {
            if (c.state !== 'signed-out') {
              off()
              resolve()
            }
          })
        })
        continue
      }
      try {
        const res = await fetch('/v1/events', { headers: { authorization: `Bearer ${token()}` } })
        if (res.status === 401) {
          // The saved token is not this daemon's (or it was rotated): forget it and wait for a sign-in.
          localStorage.removeItem(TOKEN_KEY)
          setConnection('signed-out', 'the daemon refused the saved token: sign in again')
          continue
        }
        if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`)
        attempt = 0
        setConnection('online')
        dispatch({ type: 'reconnected', data: null })
        await readEvents(res.body)
        setConnection('unreachable', 'the event stream ended')
      } catch (err) {
        setConnection('unreachable', (err as Error).message)
      }
      attempt++
      await new Promise((r) => setTimeout(r, Math.min(1000 * attempt, 3000)))
    }
  }
  void loop()
}

function dispatch(event: LiveEvent): void {
  for (const l of listeners) l(event)
}

async function readEvents(body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader()
  const chunks = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) return
        yield value
      }
    },
  }
  for await (const { event, data } of parseSse(chunks)) dispatch({ type: event, data: safeJson(data) })
}

/** Words for any error a call can end in: the registry's summary and the daemon's message. */
export function describe(err: unknown): { title: string; detail: string } {
  if (err instanceof ApiError) return { title: capitalise(err.summary), detail: err.message }
  if (err instanceof UnreachableError) return { title: 'The daemon does not answer', detail: err.message }
  return { title: 'Something went wrong in the page', detail: (err as Error)?.message ?? String(err) }
}

function capitalise(s: string): string {
  return s.length === 0 ? s : s[0]!.toUpperCase() + s.slice(1)
}
