/**
 * What a service is to the node: a definition in its own folder, listed once in
 * `src/node/registry.ts`. The node builds each from the narrow components it names (the libp2p
 * `XComponents` pattern), hands it its section of config.json, starts the services in registry
 * order, stops them in reverse, and stops what already started when a later one fails.
 *
 * @example
 * ```ts
 * export const content = defineService({
 *   name: 'content',
 *   config: contentConfig,                 // TypeBox section: config.json "content"
 *   events: ['transfer:progress'],         // forwarded to GET /v1/events
 *   create: (c: ContentComponents, config) => new Content(c, config),
 * })
 * ```
 */
import type { Static, TSchema } from './settings.ts'

/** Anything with a lifecycle. `stop()` is idempotent and releases every socket, timer and file. */
export interface Startable {
  start(): Promise<void> | void
  stop(): Promise<void> | void
}

export interface ServiceDefinition<
  Name extends string = string,
  Config extends TSchema = TSchema,
  Components = never,
  Instance extends Startable = Startable,
> {
  /** The property of the node that holds it, and its key in config.json. */
  readonly name: Name
  /** Its section of config.json: defaults, validation, type and docs come from this schema. */
  readonly config: Config
  /** Event types its instance dispatches (as CustomEvents) that the daemon forwards to /v1/events. */
  readonly events: readonly string[]
  /** Build it from the components it uses; the node starts it afterwards. */
  create(components: Components, config: Static<Config>): Instance
}

export function defineService<Name extends string, Config extends TSchema, Components, Instance extends Startable>(
  definition: ServiceDefinition<Name, Config, Components, Instance>,
): ServiceDefinition<Name, Config, Components, Instance> {
  return definition
}

/** Any service definition, whatever its components and config (what the start loop takes). */
export type AnyServiceDefinition = ServiceDefinition<string, TSchema, never, Startable>

/** Something that dispatches CustomEvents by type; what the daemon's event hub listens to. */
export interface EventSource {
  addEventListener(type: string, listener: (evt: CustomEvent<unknown>) => void): void
  removeEventListener(type: string, listener: (evt: CustomEvent<unknown>) => void): void
}
