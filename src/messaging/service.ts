/** The messaging service's entry in the node's registry (src/node/registry.ts). */
import { defineService } from '../core/service.ts'
import { messagingConfig } from './config.ts'
import { createMessaging, type MessagingComponents } from './messaging.ts'

export const messagingService = defineService({
  name: 'messaging',
  config: messagingConfig,
  events: ['topic:message', 'dm:received', 'dm:delivered', 'dm:deposited', 'dm:queued', 'dm:failed'],
  create: (components: MessagingComponents, config) => createMessaging(config, components),
})
