/**
 * Each registered service's commands, keyed by its name in the node's registry: a service in
 * the registry without an entry here is a compile error. The commands live in the service's
 * folder (`src/<service>/cli/`).
 */
import type { Command } from 'commander'
import { registerContent } from '../content/cli/content.ts'
import { registerDelegate } from '../delegation/cli/delegate.ts'
import { registerContact } from '../identity/cli/contact.ts'
import { registerDevice } from '../identity/cli/device.ts'
import { registerRecovery } from '../identity/cli/recovery.ts'
import { registerLedger } from '../ledger/cli/ledger.ts'
import { registerMailbox } from '../mailbox/cli/mailbox.ts'
import { registerMsg } from '../messaging/cli/msg.ts'
import { registerTopic } from '../messaging/cli/topic.ts'
import type { ServiceName } from '../node/registry.ts'
import { registerStore } from '../storage/cli/store.ts'

export const SERVICE_COMMANDS: { readonly [K in ServiceName]: (program: Command) => void } = {
  identity: (program) => {
    registerDevice(program)
    registerContact(program)
    registerRecovery(program)
  },
  messaging: (program) => {
    registerTopic(program)
    registerMsg(program)
  },
  delegation: registerDelegate,
  mailbox: registerMailbox,
  content: registerContent,
  storage: registerStore,
  ledger: registerLedger,
}
