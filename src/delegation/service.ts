/** The delegation service's entry in the node's registry (src/node/registry.ts). */
import { defineService } from '../core/service.ts'
import { delegationConfig } from './config.ts'
import { type DelegationComponents, DelegationService } from './delegation-service.ts'

export const delegationService = defineService({
  name: 'delegation',
  config: delegationConfig,
  events: ['delegation:granted', 'delegation:delivered', 'delegation:received', 'delegation:revoked', 'grant:changed'],
  create: (components: DelegationComponents, config) => new DelegationService(components, config),
})
