/**
 * The services of a node, in dependency order: started in this order, stopped in reverse.
 * Adding a service is its folder (definition, config section, events, routes, CLI commands,
 * dashboard view) plus one line here; the daemon's routes, the CLI's commands and the dashboard's
 * views are keyed by these names, so the compiler names every surface a new service still lacks.
 * See docs/architecture.md, "Adding a service".
 */
import { contentService } from '../content/service.ts'
import type { ComponentLogger } from '../core/logger.ts'
import type { ServiceDefinition } from '../core/service.ts'
import type { Static } from '../core/settings.ts'
import type { KeyAgreement, Signer } from '../core/signer.ts'
import { delegationService } from '../delegation/service.ts'
import { identityService } from '../identity/service.ts'
import { ledgerService } from '../ledger/service.ts'
import { mailboxService } from '../mailbox/service.ts'
import { messagingService } from '../messaging/service.ts'
import type { Net } from '../net/index.ts'
import { storageService } from '../storage/service.ts'
import type { Datastore } from '../store/datastore.ts'
import type { Blocks } from '../store/index.ts'

export const SERVICES = [
  identityService,
  messagingService,
  delegationService,
  mailboxService,
  contentService,
  storageService,
  ledgerService,
] as const

/** What the node's layers below the services give every service to pick from. */
export interface NodeComponents {
  net: Net
  datastore: Datastore
  blockstore: Blocks
  /** The device key as a signer and for key agreement: no service receives the key itself. */
  signer: Signer
  keyAgreement: KeyAgreement
  logger: ComponentLogger
}

export type Services = typeof SERVICES
export type ServiceName = Services[number]['name']

/** The node's service properties: `node.content`, `node.messaging`, ... */
export type ServiceInstances = {
  [D in Services[number] as D['name']]: ReturnType<D['create']>
}

/** Each service's config section, under its name. */
export type ServiceConfigs = {
  [D in Services[number] as D['name']]: Static<D['config']>
}

/**
 * Compile-time check of the order: each service's components must be available from the layers
 * below and the services listed before it. A wrong order or a missing component fails here.
 */
type CheckOrder<Defs extends readonly unknown[], Available> = Defs extends readonly [infer Head, ...infer Tail]
  ? Head extends ServiceDefinition<infer N, infer _C, infer Needs, infer I>
    ? Available extends Needs
      ? CheckOrder<Tail, Available & Record<N, I>>
      : { error: `service "${N}" needs a component not available before it`; needs: Needs }
    : never
  : true
const orderIsValid: CheckOrder<Services, NodeComponents> = true
void orderIsValid
