/**
 * The one error registry: error name to stable code, HTTP status and CLI exit code.
 * `docs/errors.md` documents the same table; a test keeps the two in step.
 */

export interface ErrorEntry {
  /** Stable machine-readable code, never reused for another condition. */
  code: string
  /** HTTP status the daemon API answers with. */
  status: number
  /** Exit code of the CLI when a command fails with this error. */
  exit: number
  /** One line for people: what it means. */
  summary: string
}

export const EXIT_USAGE = 2

export const ERRORS: Readonly<Record<string, ErrorEntry>> = {
  InternalError: { code: 'LAT_ERR_INTERNAL', status: 500, exit: 1, summary: 'unexpected failure inside the node' },
  InvalidInputError: {
    code: 'LAT_ERR_INVALID_INPUT',
    status: 400,
    exit: 2,
    summary: 'a request or argument is malformed',
  },
  UnauthorizedError: {
    code: 'LAT_ERR_UNAUTHORIZED',
    status: 401,
    exit: 7,
    summary: 'the API token is missing or wrong',
  },
  NotFoundError: { code: 'LAT_ERR_NOT_FOUND', status: 404, exit: 1, summary: 'no such route, peer or record' },
  DaemonNotRunningError: {
    code: 'LAT_ERR_DAEMON_NOT_RUNNING',
    status: 503,
    exit: 3,
    summary: 'no daemon answers for this home',
  },
  DaemonRunningError: {
    code: 'LAT_ERR_DAEMON_RUNNING',
    status: 409,
    exit: 6,
    summary: 'a daemon already runs on this home',
  },
  WrongPassphraseError: {
    code: 'LAT_ERR_WRONG_PASSPHRASE',
    status: 401,
    exit: 4,
    summary: 'the passphrase does not open the keystore',
  },
  PassphraseRequiredError: {
    code: 'LAT_ERR_PASSPHRASE_REQUIRED',
    status: 400,
    exit: 4,
    summary: 'the keystore is protected and no passphrase was given',
  },
  KeystoreCorruptError: {
    code: 'LAT_ERR_KEYSTORE_CORRUPT',
    status: 500,
    exit: 5,
    summary: 'the keystore file is truncated or was altered',
  },
  KeystoreExistsError: {
    code: 'LAT_ERR_KEYSTORE_EXISTS',
    status: 409,
    exit: 6,
    summary: 'this home already has a device key',
  },
  KeystoreNotFoundError: {
    code: 'LAT_ERR_KEYSTORE_NOT_FOUND',
    status: 404,
    exit: 5,
    summary: 'this home has no device key yet (run `lateral init`)',
  },
  AddressInUseError: {
    code: 'LAT_ERR_ADDRESS_IN_USE',
    status: 409,
    exit: 6,
    summary: 'a listen address is taken or not available on this machine',
  },
  ConfigError: { code: 'LAT_ERR_CONFIG', status: 500, exit: 2, summary: 'config.json is invalid' },
  PeerUnreachableError: {
    code: 'LAT_ERR_PEER_UNREACHABLE',
    status: 502,
    exit: 8,
    summary: 'the peer could not be dialled or did not answer',
  },
  OutboxFullError: {
    code: 'LAT_ERR_OUTBOX_FULL',
    status: 507,
    exit: 10,
    summary: 'the direct-message outbox is full',
  },
  MessageRefusedError: {
    code: 'LAT_ERR_MESSAGE_REFUSED',
    status: 502,
    exit: 11,
    summary: 'the recipient refused the direct message',
  },
  NoProvidersError: {
    code: 'LAT_ERR_NO_PROVIDERS',
    status: 404,
    exit: 12,
    summary: 'no peer provided the content in time',
  },
  StorageFullError: {
    code: 'LAT_ERR_STORAGE_FULL',
    status: 507,
    exit: 13,
    summary: "the disk holding the node's data is full",
  },
  AlreadyExistsError: {
    code: 'LAT_ERR_ALREADY_EXISTS',
    status: 409,
    exit: 6,
    summary: 'the target already exists and would be overwritten',
  },
  TimeoutError: { code: 'LAT_ERR_TIMEOUT', status: 504, exit: 9, summary: 'the operation ran out of time' },
  AbortedError: { code: 'LAT_ERR_ABORTED', status: 499, exit: 130, summary: 'the operation was cancelled' },
  NotStartedError: { code: 'LAT_ERR_NOT_STARTED', status: 503, exit: 1, summary: 'the node is not running' },
  InvalidPairingCodeError: {
    code: 'LAT_ERR_PAIRING_CODE_INVALID',
    status: 400,
    exit: 14,
    summary: 'the pairing code is mistyped or unknown to the new device',
  },
  PairingCodeExpiredError: {
    code: 'LAT_ERR_PAIRING_CODE_EXPIRED',
    status: 410,
    exit: 15,
    summary: 'the pairing code has expired',
  },
  PairingCodeUsedError: {
    code: 'LAT_ERR_PAIRING_CODE_USED',
    status: 410,
    exit: 15,
    summary: 'the pairing code was already used',
  },
  PairingAbortedError: {
    code: 'LAT_ERR_PAIRING_ABORTED',
    status: 409,
    exit: 16,
    summary: 'the pairing was refused or cancelled on one of the devices',
  },
  PairingVerificationError: {
    code: 'LAT_ERR_PAIRING_VERIFICATION',
    status: 502,
    exit: 17,
    summary: 'the other device failed a pairing check',
  },
  PairingProtocolError: {
    code: 'LAT_ERR_PAIRING_PROTOCOL',
    status: 502,
    exit: 17,
    summary: 'the other device broke the pairing protocol',
  },
  IdentityRuleError: {
    code: 'LAT_ERR_IDENTITY_RULE',
    status: 422,
    exit: 18,
    summary: 'an identity log entry breaks a rule of the log',
  },
  ForkError: {
    code: 'LAT_ERR_IDENTITY_FORK',
    status: 409,
    exit: 18,
    summary: 'a device signed two identity log entries with the same sequence number',
  },
  IdentityLogFullError: {
    code: 'LAT_ERR_IDENTITY_LOG_FULL',
    status: 507,
    exit: 19,
    summary: 'the identity log holds its most entries',
  },
  DelegationError: {
    code: 'LAT_ERR_DELEGATION',
    status: 403,
    exit: 20,
    summary: 'a UCAN delegation, invocation or revocation was refused (its code names the rule)',
  },
  QuotaExceededError: {
    code: 'LAT_ERR_QUOTA_EXCEEDED',
    status: 507,
    exit: 21,
    summary: "a keeper refused content beyond a quota (the grant's or its own); nothing was fetched",
  },
  StorageRefusedError: {
    code: 'LAT_ERR_STORAGE_REFUSED',
    status: 502,
    exit: 22,
    summary: 'a keeper refused a storage request (no grant, size mismatch, busy, not kept...)',
  },
  ProofFailedError: {
    code: 'LAT_ERR_PROOF_FAILED',
    status: 502,
    exit: 23,
    summary: 'a storage challenge failed: the keeper did not prove it holds the content',
  },
  MailboxRefusedError: {
    code: 'LAT_ERR_MAILBOX_REFUSED',
    status: 403,
    exit: 24,
    summary: 'a mailbox peer refused to hold direct messages (no delegation, not a device, quota full)',
  },
  ForkProvenError: {
    code: 'LAT_ERR_FORK_PROVEN',
    status: 409,
    exit: 30,
    summary: 'a peer signed two receipt halves at one position of its chain: the proof is kept and it is refused',
  },
  ChainInvalidError: {
    code: 'LAT_ERR_CHAIN_INVALID',
    status: 502,
    exit: 31,
    summary: "a peer's receipt chain failed verification (signature, position, link or counterparty half)",
  },
}

/** The entry for an error, by its `.name`; anything unknown is an internal error. */
export function errorEntry(name: string | undefined): ErrorEntry & { name: string } {
  const key = name !== undefined && Object.hasOwn(ERRORS, name) ? name : 'InternalError'
  return { name: key, ...(ERRORS[key] as ErrorEntry) }
}

/** The entry whose stable code is `code` (used by API clients to rebuild errors). */
export function errorByCode(code: string): (ErrorEntry & { name: string }) | undefined {
  for (const [name, entry] of Object.entries(ERRORS)) {
    if (entry.code === code) return { name, ...entry }
  }
  return undefined
}
