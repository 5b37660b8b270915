/**
 * What the mailbox service uses of the node, named narrowly: the registry hands it the
 * messaging, identity and delegation services, which satisfy these shapes structurally (a
 * service never imports another's internals, scripts/check-layers.ts).
 */
import type { DelegationAuthority } from '../core/delegations.ts'
import type { IdentityDirectory } from '../core/identities.ts'
import type { ComponentLogger } from '../core/logger.ts'
import type { Net } from '../net/index.ts'
import type { Datastore } from '../store/datastore.ts'

/** The command a mailbox must hold from an identity to take its mail. */
export const DEPOSIT_COMMAND = '/msg/deposit'

/** Messages for a device that cannot be reached now, sealed to it, in the sender's order. */
export type WaitingEnvelopes = ReadonlyArray<{ id: string; seq: number; envelope: Uint8Array }>

/** The outbox's fallback (messaging's DirectMessageFallback). */
export interface DepositFallback {
  deposit(to: string, envelopes: WaitingEnvelopes): Promise<{ taken: number; mailbox?: string; error?: string }>
}

/** The direct-message acknowledgement a device gives an envelope handed over to it. */
export interface HandOverResult {
  ok: boolean
  duplicate?: boolean
  code?: string
  error?: string
}

/** The two seams of messaging the mailbox uses (src/messaging/messaging.ts). */
export interface MailboxMessaging {
  setFallback(fallback: DepositFallback | undefined): void
  receiveHandedOver(via: string, envelope: Uint8Array): Promise<HandOverResult>
}

export type MailboxIdentity = Pick<IdentityDirectory, 'self' | 'identityOf' | 'devicesOf' | 'mailboxesOf' | 'refresh'>

export type MailboxDelegation = Pick<
  DelegationAuthority,
  'held' | 'lapsed' | 'provideUsage' | 'addEventListener' | 'removeEventListener'
>

export interface MailboxComponents {
  net: Net
  datastore: Datastore
  logger: ComponentLogger
  messaging: MailboxMessaging
  identity: MailboxIdentity
  delegation: MailboxDelegation
}
