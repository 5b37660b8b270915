/**
 * What other services ask of the delegation service (src/delegation/): whether this node holds
 * a right granted by an identity (and within what quota and time), and whether a request signed
 * by another peer (a UCAN invocation) is valid. Injected as the `delegation` component, so the
 * storage and mailbox services never import the delegation service itself.
 *
 * Commands Lateral uses:
 * - `/store/put`: the holder may keep content for the subject identity, up to `quota` bytes;
 * - `/msg/deposit`: the holder may hold sealed direct messages for the subject identity while
 *   none of its devices is reachable, up to `quota` bytes.
 *
 * Subjects are identities, named by their identity ID (the `did:lateral:<ID>` of a UCAN subject).
 */

/** A right this node holds: the verified chain's last link, and what the chain allows. */
export interface HeldGrant {
  /** CID of the delegation to this node (the last link of its chain). */
  cid: string
  /** The identity whose right it is. */
  subject: string
  /** The command it allows (and every command under it). */
  command: string
  /** Peer ID of the device that issued the last link. */
  issuer: string
  /** The smallest quota any link of the chain sets, in bytes; undefined when none sets one. */
  quota?: number
  /** When the chain becomes valid (ms since the Unix epoch): the latest `nbf` of its links. */
  notBefore?: number
  /** When the chain stops being valid (ms since the Unix epoch): the earliest `exp` of its links. */
  expiresAt: number
}

/** Why a grant stopped counting, for the services that act on it. */
export interface GrantChange {
  cid: string
  subject: string
  command: string
  state: 'active' | 'expired' | 'revoked'
  /** For `revoked`: the revocation's reason or the removal that voided the chain. */
  reason?: string
}

/** A verified invocation: who asked, for whom, to do what. */
export interface VerifiedInvocation {
  /** CID of the invocation (refused if seen again before it expires). */
  cid: string
  /** Peer ID of the device that signed it. */
  issuer: string
  /** The identity it acts for. */
  subject: string
  command: string
  args: Record<string, unknown>
  /** When it expires (ms since the Unix epoch). */
  expiresAt: number
}

/** What a service using grants of a command reports of their use, so grant views show quota used. */
export interface UsageProvider {
  /** Bytes this node holds for `subject` under grants of the command it holds. */
  held?(subject: string): number
  /** Bytes `peer` holds for this node's identity under grants of the command this node gave it. */
  placed?(peer: string): number
}

export interface DelegationAuthority {
  /**
   * The grant this node holds from `subject` for `command` (or a command above it), verified
   * now: signatures, time bounds (with the clock skew), revocations, links by removed devices.
   * When several are valid, the one with the largest quota, then the latest expiry. Undefined
   * when none is valid now.
   */
  held(subject: string, command: string): Promise<HeldGrant | undefined>
  /**
   * Grants held from `subject` for `command` that are past their expiry, revoked or voided:
   * with `held`, what a holder needs to decide what to drop.
   */
  lapsed(subject: string, command: string): Promise<GrantChange[]>
  /**
   * Sign an invocation of `command` for this node's own identity, addressed to `audience`
   * (a peer ID), with `args` (DAG-CBOR values only). It expires after the configured lifetime.
   */
  invoke(audience: string, command: string, args: Record<string, unknown>): Promise<Uint8Array>
  /**
   * Verify an invocation addressed to this node: shape and size, strict signature, time bounds,
   * that its issuer is a current device of its subject (or holds a valid chain from it), that it
   * was not seen before (replay), and that its command is `command` or under it. Throws
   * DelegationError naming the reason.
   */
  verifyInvocation(bytes: Uint8Array, command: string): Promise<VerifiedInvocation>
  /** Report the use of grants of `command` (one provider per command; the last one set wins). */
  provideUsage(command: string, provider: UsageProvider): void
  /** Grants this node holds changed state (received, expired, revoked). */
  addEventListener(type: 'grant:changed', listener: (evt: CustomEvent<GrantChange>) => void): void
  removeEventListener(type: 'grant:changed', listener: (evt: CustomEvent<GrantChange>) => void): void
}
