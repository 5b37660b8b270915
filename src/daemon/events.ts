/**
 * The daemon's live event stream (`GET /v1/events`, server-sent events). One hub listens to the
 * node once and fans each event out to every open stream; services publish through it too.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { EVENTS_HEARTBEAT_MS } from '../core/constants.ts'
import type { LateralNode } from '../node/node.ts'
import { bodyView } from './views.ts'

/** Messages carry bytes; on the event stream they appear as in the API (text and base64). */
function messageView(detail: unknown): unknown {
  const d = detail as { body?: unknown; type?: unknown }
  if (!(d.body instanceof Uint8Array) || typeof d.type !== 'string') return detail
  const { body, ...rest } = d
  return { ...rest, ...bodyView(d.type, body) }
}

export interface LiveEvent {
  type: string
  data: unknown
}

export interface AttachOptions {
  /** Only events this accepts reach the stream. */
  filter?: (event: LiveEvent) => boolean
  /** The stream ends after an event this accepts (or at once when `endNow`). */
  endAfter?: (event: LiveEvent) => boolean
  endNow?: boolean
}

interface Client {
  res: ServerResponse
  options: AttachOptions
}

export class EventHub {
  readonly #clients = new Set<Client>()
  readonly #unsubscribe: Array<() => void> = []
  #nextId = 1

  constructor(node: LateralNode) {
    const forward = <T extends string>(
      source: {
        addEventListener(type: T, l: (evt: CustomEvent<unknown>) => void): void
        removeEventListener(type: T, l: (evt: CustomEvent<unknown>) => void): void
      },
      type: T,
      view: (detail: unknown) => unknown = (d) => d,
    ) => {
      const listener = (evt: CustomEvent<unknown>) => this.publish({ type, data: view(evt.detail) })
      source.addEventListener(type, listener)
      this.#unsubscribe.push(() => source.removeEventListener(type, listener))
    }
    for (const type of ['peer:connect', 'peer:disconnect', 'peer:identify', 'addresses:change'] as const)
      forward(node.net, type)
    for (const type of ['topic:message', 'dm:received', 'dm:delivered', 'dm:queued', 'dm:failed'] as const) {
      forward(node.messaging, type, messageView)
    }
  }

  get clientCount(): number {
    return this.#clients.size
  }

  publish(event: LiveEvent): void {
    const frame = `id: ${this.#nextId++}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`
    for (const client of this.#clients) {
      if (client.options.filter !== undefined && !client.options.filter(event)) continue
      client.res.write(frame)
      if (client.options.endAfter?.(event) === true) {
        this.#clients.delete(client)
        client.res.end()
      }
    }
  }

  /** Take over a raw HTTP exchange as an event stream until the client goes away. */
  attach(req: IncomingMessage, res: ServerResponse, hello: unknown, options: AttachOptions = {}): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    res.write(`retry: 2000\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`)
    if (options.endNow === true) {
      res.end()
      return
    }
    const client = { res, options }
    this.#clients.add(client)
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), EVENTS_HEARTBEAT_MS)
    heartbeat.unref()
    const done = () => {
      clearInterval(heartbeat)
      this.#clients.delete(client)
    }
    req.on('close', done)
    res.on('close', done)
  }

  /** End every open stream (the daemon is stopping) and stop listening to the node. */
  close(): void {
    for (const fn of this.#unsubscribe.splice(0)) fn()
    for (const client of this.#clients) client.res.end()
    this.#clients.clear()
  }
}
