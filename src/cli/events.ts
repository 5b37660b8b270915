/** Reading the daemon's server-sent event stream (`GET /v1/events`) from the CLI. */
import { DaemonNotRunningError } from '../core/errors.ts'
import { parseSse } from '../core/sse.ts'
import type { ApiClient } from './client.ts'

export interface LiveEvent {
  event: string
  data: unknown
}

/** Yield events until the stream ends or `signal` aborts; `path` names another event stream of the API. */
export async function* liveEvents(
  client: ApiClient,
  signal?: AbortSignal,
  path = '/v1/events',
): AsyncGenerator<LiveEvent> {
  let res: Response
  try {
    res = await fetch(`${client.info.url}${path}`, {
      headers: { authorization: `Bearer ${client.info.token}`, accept: 'text/event-stream' },
      ...(signal === undefined ? {} : { signal }),
    })
  } catch (err) {
    if (signal?.aborted === true) return
    throw new DaemonNotRunningError(`no daemon answers at ${client.info.url}: ${(err as Error).message}`)
  }
  if (!res.ok || res.body === null) throw new DaemonNotRunningError(`the event stream answered HTTP ${res.status}`)
  try {
    for await (const { event, data } of parseSse(res.body)) yield { event, data: JSON.parse(data) }
  } catch (err) {
    if (signal?.aborted === true) return
    throw err
  }
  if (signal?.aborted !== true) throw new DaemonNotRunningError('the daemon closed the event stream (stopped?)')
}

/** An AbortSignal that fires on Ctrl-C / SIGTERM, so long-running commands end cleanly. */
export function untilInterrupted(): AbortSignal {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return controller.signal
}
