/**
 * What the identity service offers its surfaces (routes, CLI, dashboard): the person this node
 * belongs to, their devices, linking and removing devices, and contacts.
 */

import type { Contact, ContactBook } from './contacts/contact-book.ts'
import type { RecoverySessionView } from './recovery/recovery.ts'
import type { ContactView, IdentityReply, PairingView } from './views.ts'

export interface IdentityEvents {
  /** The identity's log changed (a device added or removed, a new name, a new data key). */
  'identity:change': CustomEvent<IdentityReply>
  /** A pairing moved on (code ready, strings to compare, done, aborted). */
  'pairing:update': CustomEvent<PairingView>
  /** A recovery session moved on (approvals arrived, pending, completed, vetoed...). */
  'recovery:update': CustomEvent<RecoverySessionView>
  /** A recovery of this node's identity started: this device may veto it until it is due. */
  'recovery:started': CustomEvent<NonNullable<IdentityReply['recovery']>>
  /** What this node knows of a contact changed: their log brought new devices, a name, mailboxes. */
  'contact:update': CustomEvent<ContactView>
}

export interface Identity {
  /** This node's identity as its log says now. */
  view(): IdentityReply
  /** Sign a new display name into the log. */
  setName(name: string): Promise<IdentityReply>
  /** On a NEW device: make a pairing code and wait for a device of the identity to use it. */
  link(options?: { name?: string }): Promise<PairingView>
  /** On a device OF the identity: reach the new device named by `code` and pair with it. */
  add(code: string): Promise<PairingView>
  /** Confirm a pairing with the string the other screen shows (or `yes`); anything else aborts both. */
  confirm(pairingId: string, shortString: string): Promise<PairingView>
  /** Refuse a pairing; the other side aborts too. */
  cancel(pairingId: string): Promise<PairingView>
  pairing(pairingId: string): PairingView
  /** Remove a device (by peer ID or name): its signatures are refused from then on; the data key is rotated. */
  remove(device: string, options?: { lost?: boolean }): Promise<IdentityReply>
  /**
   * This device's copy of the identity's current data key (for the identity's own encrypted
   * data). NotFoundError when the log holds none for this device, e.g. after it was removed.
   */
  dataKey(): { epoch: number; key: Uint8Array }
  readonly contacts: ContactBook
  /** Every contact, with what this node knows of each from their signed log (`profile`). */
  contactViews(): Promise<ContactView[]>
  /** One contact with its profile, as `contactViews()` gives it. */
  contactView(contact: Contact): ContactView
  addEventListener<K extends keyof IdentityEvents>(type: K, listener: (evt: IdentityEvents[K]) => void): void
  removeEventListener<K extends keyof IdentityEvents>(type: K, listener: (evt: IdentityEvents[K]) => void): void
}
