/**
 * Mailboxes: peers that hold a person's sealed direct messages while none of their devices is
 * reachable (docs/protocols/mailbox.md).
 *
 * @example
 * ```ts
 * const mailbox = createMailbox({}, { net, datastore, logger, messaging, identity, delegation })
 * await mailbox.start()                  // serves /lateral/mailbox/1.0.0, installs the outbox fallback
 * await mailbox.collect()                // this device's mail, from its identity's mailboxes
 * ```
 */
export type { CollectResult } from './collector.ts'
export { type MailboxConfig, mailboxConfig } from './config.ts'
export {
  createMailbox,
  type Holding,
  type Mailbox,
  type MailboxEvents,
  type MailboxInit,
  type MailboxStatus,
} from './mailbox.ts'
export {
  DEPOSIT_COMMAND,
  type MailboxComponents,
  type MailboxDelegation,
  type MailboxIdentity,
  type MailboxMessaging,
} from './seams.ts'
export { mailboxService } from './service.ts'
