/**
 * Each registered service's dashboard view, keyed by its name in the node's registry: a service
 * without an entry here is a compile error (`null` when it has no view).
 */
import { contentView } from '../../src/content/web/files.tsx'
import type { ServiceName } from '../../src/daemon/schemas.ts'
import { delegationView } from '../../src/delegation/web/delegations.tsx'
import { identityView } from '../../src/identity/web/identity-view.tsx'
import { ledgerView } from '../../src/ledger/web/ledger-view.tsx'
import { mailboxView } from '../../src/mailbox/web/mailbox-view.tsx'
import { messagingView } from '../../src/messaging/web/chat.tsx'
import { storageView } from '../../src/storage/web/storage-view.tsx'
import type { ServiceView } from './service-view.ts'

export const SERVICE_VIEWS: { readonly [K in ServiceName]: ServiceView | null } = {
  identity: identityView,
  content: contentView,
  messaging: messagingView,
  delegation: delegationView,
  mailbox: mailboxView,
  storage: storageView,
  ledger: ledgerView,
}
