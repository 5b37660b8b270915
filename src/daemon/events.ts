/**
 * The daemon's live event stream (`GET /v1/events`, server-sent events). One hub listens to the
 * node once and fans each event out to every open stream; services publish through it too.
 *
 * Each stream is written with back-pressure and holds at most `maxClientBufferBytes`
 * (`event-client.ts`): a client that stops reading is dropped, its stream ending with
 *
 *   event: dropped
 *   data: {"reason":"slow-reader","bufferedBytes":<held>,"limitBytes":<bound>}
 *
 * after the events it was already sent. A client that reads slowly but keeps under the bound
 * gets every event.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  DEFAULT_EVENTS_CLIENT_BUFFER_BYTES,
  DEFAULT_EVENTS_DROP_GRACE_MS,
  EVENTS_HEARTBEAT_MS,
} from '../core/constants.ts'
import type { EventSource } from '../core/service.ts'
import type { LateralNode } from '../node/node.ts'
import { SERVICES, type ServiceName } from '../node/registry.ts'
import { EventClient } from './event-client.ts'
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

export interface EventHubInit {
  /** Bytes one stream may hold (unsent and waiting for the reader) before it is dropped. */
  maxClientBufferBytes?: number
  /** How long an ended or dropped stream may take to deliver what it holds before its socket is destroyed. */
  dropGraceMs?: number
  /** Interval of the keep-alive comment. */
  heartbeatMs?: number
}

/** What the hub listens to: the network, and each registered service for the events it declares. */
export type EventHubComponents = Pick<LateralNode, 'net' | ServiceName>

interface Client {
  stream: EventClient
  options: AttachOptions
}

export class EventHub {
  readonly #clients = new Set<Client>()
  readonly #unsubscribe: Array<() => void> = []
  readonly #maxClientBufferBytes: number
  readonly #dropGraceMs: number
  readonly #heartbeatMs: number
  #nextId = 1
  #dropped = 0

  constructor(node: EventHubComponents, init: EventHubInit = {}) {
    this.#maxClientBufferBytes = init.maxClientBufferBytes ?? DEFAULT_EVENTS_CLIENT_BUFFER_BYTES
    this.#dropGraceMs = init.dropGraceMs ?? DEFAULT_EVENTS_DROP_GRACE_MS
    this.#heartbeatMs = init.heartbeatMs ?? EVENTS_HEARTBEAT_MS
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
    for (const service of SERVICES) {
      for (const type of service.events) forward(node[service.name] as unknown as EventSource, type, messageView)
    }
  }

  get clientCount(): number {
    return this.#clients.size
  }

  /** Bytes held now for each open stream (unsent and waiting for its reader). */
  clientBuffers(): number[] {
    return [...this.#clients].map((c) => c.stream.bufferedBytes)
  }

  /** Streams dropped so far because their reader fell behind by more than the bound. */
  get droppedCount(): number {
    return this.#dropped
  }

  publish(event: LiveEvent): void {
    const id = this.#nextId++
    if (this.#clients.size === 0) return
    const frame = Buffer.from(`id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`)
    for (const client of this.#clients) {
      if (client.options.filter !== undefined && !client.options.filter(event)) continue
      client.stream.send(frame)
      if (client.stream.open && client.options.endAfter?.(event) === true) client.stream.end()
    }
  }

  /** Take over a raw HTTP exchange as an event stream until the client goes away. */
  attach(_req: IncomingMessage, res: ServerResponse, hello: unknown, options: AttachOptions = {}): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    let heartbeat: NodeJS.Timeout | undefined
    const client: Client = {
      options,
      stream: new EventClient(res, {
        maxBufferBytes: this.#maxClientBufferBytes,
        graceMs: this.#dropGraceMs,
        onGone: () => {
          clearInterval(heartbeat)
          this.#clients.delete(client)
        },
        onDrop: () => this.#dropped++,
      }),
    }
    client.stream.send(Buffer.from(`retry: 2000\nevent: hello\ndata: ${JSON.stringify(hello)}\n\n`))
    if (options.endNow === true) {
      client.stream.end()
      return
    }
    // A hello larger than the bound has dropped the client already.
    if (!client.stream.open) return
    this.#clients.add(client)
    heartbeat = setInterval(() => client.stream.send(HEARTBEAT), this.#heartbeatMs)
    heartbeat.unref()
  }

  /** End every open stream (the daemon is stopping) and stop listening to the node. */
  close(): void {
    for (const fn of this.#unsubscribe.splice(0)) fn()
    for (const client of [...this.#clients]) {
      // A reader that is behind would hold the server open until the grace time: cut it now.
      if (client.stream.bufferedBytes > 0) client.stream.destroy()
      else client.stream.end()
    }
    this.#clients.clear()
  }
}

const HEARTBEAT = Buffer.from(': keep-alive\n\n')
