/** The `identity` section of config.json (docs/config.md, docs/protocols/identity.md). */

import { Type } from '@sinclair/typebox'
import {
  DEFAULT_CONTACTS_MAX,
  DEFAULT_IDENTITY_ANNOUNCE_MS,
  DEFAULT_IDENTITY_REFRESH_GAP_MS,
  DEFAULT_IDENTITY_SYNC_TIMEOUT_MS,
  DEFAULT_KNOWN_IDENTITIES,
  DEFAULT_LOG_MAX_ENTRIES,
  DEFAULT_PAIRING_CODE_TTL_MS,
  DEFAULT_PAIRING_CONFIRM_TIMEOUT_MS,
  DEFAULT_PAIRING_STEP_TIMEOUT_MS,
  DEFAULT_RECOVERY_CODE_TTL_MS,
  DEFAULT_RECOVERY_DELAY_MS,
  DEFAULT_RECOVERY_MIN_DELAY_MS,
  DEFAULT_RECOVERY_TIMEOUT_MS,
} from '../core/constants.ts'
import { count, millis, type Static, section } from '../core/settings.ts'

export const identityConfig = section('The identity: devices, pairing, contacts', {
  deviceName: Type.String({
    minLength: 0,
    maxLength: 64,
    default: '',
    description: "this device's name in the identity when it starts one (empty: the machine's host name)",
  }),
  pairingCodeTtlMs: millis('a pairing code works once, within this time', DEFAULT_PAIRING_CODE_TTL_MS),
  pairingStepTimeoutMs: millis(
    'each step of the pairing handshake must arrive within this',
    DEFAULT_PAIRING_STEP_TIMEOUT_MS,
  ),
  pairingConfirmTimeoutMs: millis(
    'how long both people have to compare and confirm the short string',
    DEFAULT_PAIRING_CONFIRM_TIMEOUT_MS,
  ),
  logMaxEntries: count('entries one identity log may hold', DEFAULT_LOG_MAX_ENTRIES, { minimum: 16 }),
  syncTimeoutMs: millis('fetching an identity log from a peer gives up after this', DEFAULT_IDENTITY_SYNC_TIMEOUT_MS),
  announceIntervalMs: millis(
    'this node announces its log heads this often (and at every change and new connection)',
    DEFAULT_IDENTITY_ANNOUNCE_MS,
  ),
  refreshMinGapMs: millis(
    "another person's log is asked of connected peers (their devices away: a message to send) at most this often",
    DEFAULT_IDENTITY_REFRESH_GAP_MS,
  ),
  knownIdentities: count("other people's identity logs kept (contacts first)", DEFAULT_KNOWN_IDENTITIES, {
    minimum: 1,
  }),
  contactsMax: count('contacts kept at most', DEFAULT_CONTACTS_MAX, { minimum: 1 }),
  recoveryDelayMs: millis(
    'how long a recovery waits for a veto (and a guardian change before it counts), unless --delay says otherwise',
    DEFAULT_RECOVERY_DELAY_MS,
    { minimum: 1000 },
  ),
  recoveryMinDelayMs: millis(
    'the shortest recovery delay this node lets its person set',
    DEFAULT_RECOVERY_MIN_DELAY_MS,
    {
      minimum: 1000,
    },
  ),
  recoveryCodeTtlMs: millis('a recovery request code works for this long', DEFAULT_RECOVERY_CODE_TTL_MS),
  recoveryTimeoutMs: millis('one recovery exchange with a peer gives up after this', DEFAULT_RECOVERY_TIMEOUT_MS),
})
export type IdentityConfig = Static<typeof identityConfig>
