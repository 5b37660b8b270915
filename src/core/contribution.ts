/**
 * Where a service that gives or takes bandwidth or space meets the contribution ledger, without
 * either importing the other: the service (content now; storage and mailboxes later) reports the
 * bytes it gave to and got from each peer, and asks whom to serve first. The ledger implements
 * `Contribution` and hands it to the service at its start (`setContribution`), the way the
 * mailbox service sets messaging's outbox fallback.
 *
 * @example
 * ```ts
 * content.setContribution(ledger.contribution)     // the ledger, at its start
 * contribution?.gave(peerId, block.length, 'blocks') // the blocks server, once a block is written
 * ```
 */

/** The kinds of service a receipt counts: block transfers, storage kept, mail held. */
export const SERVICE_KINDS = ['blocks', 'storage', 'mailbox'] as const
export type ServiceKind = (typeof SERVICE_KINDS)[number]

/** Tiers of `preference`: where a downloader has a choice, higher tiers choose first. */
export const PREFER_AVOID = -1
export const PREFER_NEUTRAL = 0
export const PREFER_GOOD = 1

export interface Contribution {
  /** This node gave `peerId` `bytes` of service (block data written to it). Called as it happens: cheap, never throws. */
  gave(peerId: string, bytes: number, kind: ServiceKind): void
  /** This node received `bytes` of service from `peerId` (block data verified against its CID). */
  got(peerId: string, bytes: number, kind: ServiceKind): void
  /** This node now holds `bytes` for `peerId` (storage kept, mail held): receipts of that kind carry it. */
  holding(peerId: string, bytes: number, kind: ServiceKind): void
  /**
   * The peer's share under contention, > 0: peers waiting for the same upload capacity are served
   * in proportion to their weights (a peer never seen has the newcomer weight).
   */
  weight(peerId: string): number
  /** PREFER_GOOD, PREFER_NEUTRAL or PREFER_AVOID: how much a downloader should prefer this peer. */
  preference(peerId: string): number
  /** Refused for service (a proven cheater): served nothing and asked nothing. */
  refuses(peerId: string): boolean
}

/** A service that counts what it gives and gets, and orders service by what the ledger says. */
export interface ContributionSeam {
  /** Install (or, with undefined, remove) the ledger's side of the seam. */
  setContribution(contribution: Contribution | undefined): void
}
