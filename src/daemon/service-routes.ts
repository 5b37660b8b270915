/**
 * Each registered service's HTTP surface, keyed by its name in the node's registry: a service in
 * the registry without an entry here is a compile error. The routes live in the service's folder
 * (`src/<service>/api/`).
 */
import { contentApi } from '../content/api/routes.ts'
import { delegationApi } from '../delegation/api/routes.ts'
import { identityApi } from '../identity/api/routes.ts'
import { ledgerApi } from '../ledger/api/routes.ts'
import { mailboxApi } from '../mailbox/api/routes.ts'
import { messagingApi } from '../messaging/api/routes.ts'
import type { ServiceName } from '../node/registry.ts'
import { storageApi } from '../storage/api/routes.ts'
import type { ServiceApi } from './service-api.ts'

export const SERVICE_APIS: { readonly [K in ServiceName]: ServiceApi } = {
  identity: identityApi,
  messaging: messagingApi,
  delegation: delegationApi,
  mailbox: mailboxApi,
  content: contentApi,
  storage: storageApi,
  ledger: ledgerApi,
}
