/** The mailbox service's entry in the node's registry (src/node/registry.ts). */
import { defineService } from '../core/service.ts'
import { mailboxConfig } from './config.ts'
import { createMailbox } from './mailbox.ts'
import type { MailboxComponents } from './seams.ts'

export const mailboxService = defineService({
  name: 'mailbox',
  config: mailboxConfig,
  events: ['mailbox:deposited', 'mailbox:refused', 'mailbox:dropped', 'mailbox:handed-over', 'mailbox:collected'],
  create: (components: MailboxComponents, config) => createMailbox(config, components),
})
