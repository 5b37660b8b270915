/**
 * What a service gives the daemon: its shared schemas and its routes as a Fastify plugin. The
 * daemon registers one per service of the node's registry (src/daemon/api.ts), so a service's
 * HTTP surface lives in its own folder (`src/<service>/api/`).
 */
import type { FastifyPluginAsync } from 'fastify'
import type { LateralNode } from '../node/node.ts'
import type { EventHub } from './events.ts'
import type { Transfers } from './transfers.ts'

/** What every service's routes may use besides their own service. */
export interface RouteContext {
  node: LateralNode
  /** The live event stream: `hub.publish()` reaches every GET /v1/events client. */
  hub: EventHub
  /** Long operations with an ID, progress events and cancel (GET /v1/transfers/...). */
  transfers: Transfers
}

export interface ServiceApi {
  /** Schemas with an `$id` that routes `$ref`: added once at the root (and to the OpenAPI document). */
  schemas: readonly object[]
  routes: FastifyPluginAsync<RouteContext>
}
