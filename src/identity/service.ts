/** The identity service's entry in the node's registry (src/node/registry.ts). */
import { defineService } from '../core/service.ts'
import { identityConfig } from './config.ts'
import { type IdentityComponents, IdentityService } from './identity-service.ts'

export const identityService = defineService({
  name: 'identity',
  config: identityConfig,
  events: ['identity:change', 'pairing:update', 'recovery:update', 'recovery:started', 'contact:update'],
  create: (components: IdentityComponents, config) => new IdentityService(components, config),
})
