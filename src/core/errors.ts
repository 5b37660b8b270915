/**
 * Every error Lateral raises on purpose is one class per condition, told apart by `.name`
 * (the js-libp2p convention). The registry in `error-registry.ts` maps each name to a stable
 * code, an HTTP status and a CLI exit code.
 */

export class LateralError extends Error {
  override name = 'LateralError'
}

/** The passphrase does not open the keystore (authentication failed). */
export class WrongPassphraseError extends LateralError {
  override name = 'WrongPassphraseError'
  constructor(message = 'wrong passphrase: the keystore could not be decrypted') {
    super(message)
  }
}

/** The keystore file is truncated, has a bad header or was altered. It is never overwritten. */
export class KeystoreCorruptError extends LateralError {
  override name = 'KeystoreCorruptError'
}

/** `init` was asked to create a keystore where one already exists. */
export class KeystoreExistsError extends LateralError {
  override name = 'KeystoreExistsError'
}

/** There is no device key in this home yet. */
export class KeystoreNotFoundError extends LateralError {
  override name = 'KeystoreNotFoundError'
}

/** The keystore is protected and no passphrase could be obtained (no TTY, no LATERAL_PASSPHRASE). */
export class PassphraseRequiredError extends LateralError {
  override name = 'PassphraseRequiredError'
}

/** `config.json` is not valid JSON or holds a value of the wrong type. */
export class ConfigError extends LateralError {
  override name = 'ConfigError'
}

/** Another daemon already runs on this home. */
export class DaemonRunningError extends LateralError {
  override name = 'DaemonRunningError'
}

/** No daemon answers for this home. */
export class DaemonNotRunningError extends LateralError {
  override name = 'DaemonNotRunningError'
}

/** A request or argument is malformed (bad multiaddr, bad peer ID, bad body). */
export class InvalidInputError extends LateralError {
  override name = 'InvalidInputError'
}

/** The API token is missing or wrong. */
export class UnauthorizedError extends LateralError {
  override name = 'UnauthorizedError'
}

/** The requested thing (route, peer, record) does not exist. */
export class NotFoundError extends LateralError {
  override name = 'NotFoundError'
}

/** A listen address (libp2p or API) is taken or does not exist on this machine. */
export class AddressInUseError extends LateralError {
  override name = 'AddressInUseError'
}

/** A peer could not be dialled or did not answer. */
export class PeerUnreachableError extends LateralError {
  override name = 'PeerUnreachableError'
}

/** The direct-message outbox is at `messaging.outboxCap`: nothing more is queued until messages go out. */
export class OutboxFullError extends LateralError {
  override name = 'OutboxFullError'
}

/** The recipient refused a direct message for good (it could not open or verify it). */
export class MessageRefusedError extends LateralError {
  override name = 'MessageRefusedError'
}

/** An operation ran out of time. */
export class TimeoutError extends LateralError {
  override name = 'TimeoutError'
}

/** An operation was cancelled by its caller. */
export class AbortedError extends LateralError {
  override name = 'AbortedError'
}

/** The node is not started (or already stopped) and cannot serve the request. */
export class NotStartedError extends LateralError {
  override name = 'NotStartedError'
}

/** No peer provided the content (or one of its blocks) within the time allowed. */
export class NoProvidersError extends LateralError {
  override name = 'NoProvidersError'
}

/** The target of an operation already exists and would be overwritten (e.g. `get -o` to an existing path). */
export class AlreadyExistsError extends LateralError {
  override name = 'AlreadyExistsError'
}

/** The disk holding the node's data is full; nothing half-written was kept. */
export class StorageFullError extends LateralError {
  override name = 'StorageFullError'
}

/** A pairing code is mistyped, is not a pairing code, or is not one the new device is waiting on. */
export class InvalidPairingCodeError extends LateralError {
  override name = 'InvalidPairingCodeError'
}

/** A pairing code is past its expiry: make a new one on the new device. */
export class PairingCodeExpiredError extends LateralError {
  override name = 'PairingCodeExpiredError'
}

/** A pairing code was already used (each works once, whatever the outcome): make a new one. */
export class PairingCodeUsedError extends LateralError {
  override name = 'PairingCodeUsedError'
}

/**
 * A pairing ended without linking: a person refused or typed a different short string, or a
 * device cancelled or refused the payload. `by` says which side ended it. Nothing was handed over.
 */
export class PairingAbortedError extends LateralError {
  override name = 'PairingAbortedError'
  readonly by: 'local' | 'remote'
  /** `refused`: a person said no; `cancelled`: a caller gave up; `failed`: a payload or callback failed. */
  readonly reason: 'refused' | 'cancelled' | 'failed'
  constructor(message: string, by: 'local' | 'remote', reason: 'refused' | 'cancelled' | 'failed' = 'refused') {
    super(message)
    this.by = by
    this.reason = reason
  }
}

/**
 * The other device failed a pairing check: a reveal that does not match its commitment, a key
 * that is not the connection's peer (or the code's), or no proof of the code's secret. Someone
 * may be interfering; the pairing is aborted.
 */
export class PairingVerificationError extends LateralError {
  override name = 'PairingVerificationError'
}

/** The other device broke the pairing protocol: a malformed, oversized or unexpected message. */
export class PairingProtocolError extends LateralError {
  override name = 'PairingProtocolError'
}

/**
 * An identity log entry breaks a rule of the log (docs/protocols/identity.md): its signer is not a
 * device of the identity in its past, its `seq` is not the next, it names another identity, adds a
 * device twice, removes one that is not there, and so on. The message names the entry and the rule.
 */
export class IdentityRuleError extends LateralError {
  override name = 'IdentityRuleError'
}

/** Two entries of an identity log, from one device with one `seq`, which the device signed both of. */
export interface ForkProof {
  /** The signing device's peer ID. */
  device: string
  seq: number
  /** The two entries' CIDs, sorted. */
  cids: [string, string]
  /** The two entries' bytes, in the order of `cids`: each verifies under the device's key. */
  entries: [Uint8Array, Uint8Array]
}

/** A device signed two different identity log entries with the same `seq`: the second is refused. */
export class ForkError extends LateralError {
  override name = 'ForkError'
  readonly proof: ForkProof
  constructor(message: string, proof: ForkProof) {
    super(message)
    this.proof = proof
  }
}

/** An identity log holds its most entries: nothing more is taken. */
export class IdentityLogFullError extends LateralError {
  override name = 'IdentityLogFullError'
}

/**
 * Why a UCAN token was refused (docs/protocols/delegation.md lists every rule in order). `code`
 * is the UCAN fixtures' error name where one applies, Lateral's own otherwise.
 */
export type DelegationErrorCode =
  | 'InvalidClaim'
  | 'UnavailableProof'
  | 'Expired'
  | 'TooEarly'
  | 'InvalidAudience'
  | 'InvalidSubject'
  | 'InvalidSignature'
  | 'MatchError'
  | 'Revoked'
  | 'Replayed'
  | 'Escalation'
  | 'DeviceRemoved'
  | 'Malformed'
  | 'ReplayStoreFull'

/** Where in a chain a refusal applies: the invocation, a revocation, or a delegation by its index (0 = root). */
export type DelegationErrorLink = number | 'invocation' | 'revocation'

/**
 * A UCAN delegation, invocation or revocation was refused: a bad signature, a broken chain, a
 * time bound, a policy, a revocation, a replay... `code` names the rule, the message the link and why.
 */
export class DelegationError extends LateralError {
  override name = 'DelegationError'
  readonly code: DelegationErrorCode
  /** The token refused, when one is: `invocation`, `revocation`, or a delegation's index in its chain. */
  readonly link: DelegationErrorLink | undefined
  /** The refused token's CID, when known. */
  readonly cid: string | undefined
  constructor(
    message: string,
    code: DelegationErrorCode = 'InvalidClaim',
    where: { link?: DelegationErrorLink; cid?: string } = {},
  ) {
    super(message)
    this.code = code
    this.link = where.link
    this.cid = where.cid
  }
}

/**
 * A keeper refused to keep content for this identity because it would pass a quota: the grant's,
 * or the keeper's own bound on what it keeps for one identity or for all. Nothing was fetched.
 */
export class QuotaExceededError extends LateralError {
  override name = 'QuotaExceededError'
}

/**
 * A keeper refused a storage request: it holds no valid grant from the identity, the content is
 * larger than claimed, it is busy, the fetch failed, it does not keep that content... `code` is the
 * refusal's code on the wire (docs/protocols/storage.md).
 */
export class StorageRefusedError extends LateralError {
  override name = 'StorageRefusedError'
  readonly code: string
  constructor(message: string, code: string) {
    super(message)
    this.code = code
  }
}

/** A storage challenge failed: the keeper could not prove it still holds the content (the reason says why). */
export class ProofFailedError extends LateralError {
  override name = 'ProofFailedError'
}

/**
 * A mailbox peer refused to hold direct messages: it holds no `/msg/deposit` grant from the
 * identity, the device is not one of the identity's, or a quota is full. `code` names which
 * (docs/protocols/mailbox.md, "Refusals").
 */
export class MailboxRefusedError extends LateralError {
  override name = 'MailboxRefusedError'
  readonly code: string
  constructor(message: string, code: string) {
    super(message)
    this.code = code
  }
}

/** `ledger verify` found a fork: the device signed two different halves at one position of its chain (the proof is kept and gossiped). */
export class ForkProvenError extends LateralError {
  override name = 'ForkProvenError'
}

/** A fetched receipt chain failed verification: an entry's signature, position, link or counterparty half is wrong. */
export class ChainInvalidError extends LateralError {
  override name = 'ChainInvalidError'
}
