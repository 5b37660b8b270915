/**
 * Each registered service's commands, keyed by its name in the node's registry: a service in
 * the registry without an entry here is a compile error. The commands live in the service's
 * folder (`src/<service>/cli/`).
 */
import type { Command } from 'commander'
import { registerContent } from '../content/cli/content.ts'
import { registerMsg } from '../messaging/cli/msg.ts'
import { registerTopic } from '../messaging/cli/topic.ts'
import type { ServiceName } from '../node/registry.ts'

export const SERVICE_COMMANDS: { readonly [K in ServiceName]: (program: Command) => void } = {
  messaging: (program) => {
    registerTopic(program)
    registerMsg(program)
  },
  content: registerContent,
}
