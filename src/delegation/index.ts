/**
 * Delegation: narrow, expiring, revocable rights given to other peers as UCAN 1.0 delegations
 * (docs/protocols/delegation.md). `node.delegation` grants, lists and revokes; other services
 * ask it what this node may do for whom (core/delegations.ts).
 */
export { type DelegationConfig, delegationConfig } from './config.ts'
export {
  type DelegationComponents,
  type DelegationEvents,
  type DelegationIdentity,
  DelegationService,
  type GrantInput,
} from './delegation-service.ts'
export { delegationService } from './service.ts'
export { type DelegationView, delegationView } from './views.ts'
export { DELEGATION_PROTOCOL, REVOCATIONS_TOPIC } from './wire.ts'
