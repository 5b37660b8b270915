/**
 * The one start loop (libp2p's `components.ts`): build every service from the components
 * available so far, start them in order, and when one fails stop the ones already started, in
 * reverse, before giving the error back.
 */
import type { Logger } from '../core/logger.ts'
import type { AnyServiceDefinition, Startable } from '../core/service.ts'

export interface StartedServices {
  /** The services by name, in start order. */
  readonly instances: Record<string, Startable>
  /** Stop every started service in reverse order; idempotent, never throws (failures are logged). */
  stop(): Promise<void>
}

export async function startServices(
  definitions: readonly AnyServiceDefinition[],
  components: object,
  config: Record<string, unknown>,
  log: Logger,
): Promise<StartedServices> {
  const instances: Record<string, Startable> = {}
  const started: Startable[] = []
  const stop = async () => {
    for (const service of started.splice(0).reverse()) {
      try {
        await service.stop()
      } catch (err) {
        log.error('service failed to stop', { err })
      }
    }
  }
  try {
    for (const definition of definitions) {
      const create = definition.create as (c: unknown, config: unknown) => Startable
      const service = create({ ...components, ...instances }, config[definition.name])
      instances[definition.name] = service
      // Stopped on rollback even if its own start fails half-way: stop() is idempotent.
      started.push(service)
      await service.start()
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { instances, stop }
}
