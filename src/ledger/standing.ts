/**
 * A peer's standing with this node, and what it gets under contention (core/contribution.ts):
 *
 * | standing     | when                                                        | weight          | preferred |
 * |--------------|-------------------------------------------------------------|-----------------|-----------|
 * | refused      | a fork proof against it (or a device of its identity)       | served nothing  | never     |
 * | non-signer   | it left bytes it received unacknowledged beyond the slack    | LEDGER_WEIGHT_MIN | avoided |
 * | free-rider   | it took more than it gave (score < 0)                        | MIN .. NEWCOMER | avoided   |
 * | newcomer     | nothing given or taken either way (score 0)                  | NEWCOMER        | neutral   |
 * | contributor  | it gave more than it took (score > 0)                        | NEWCOMER .. MAX | preferred |
 *
 * Weights move smoothly with the score (bytes), halfway at `unit`: a peer is never cut off for
 * taking, and a Sybil cannot buy more than the MAX / MIN ratio of service with fake receipts.
 */

import { LEDGER_WEIGHT_MAX, LEDGER_WEIGHT_MIN, LEDGER_WEIGHT_NEWCOMER } from '../core/constants.ts'
import { PREFER_AVOID, PREFER_GOOD, PREFER_NEUTRAL } from '../core/contribution.ts'
import type { Flow } from './reputation.ts'

export const STANDINGS = ['refused', 'non-signer', 'free-rider', 'newcomer', 'contributor'] as const
export type Standing = (typeof STANDINGS)[number]

export function standingOf(flow: Flow | undefined, refused: boolean, nonSigner: boolean): Standing {
  if (refused) return 'refused'
  if (nonSigner) return 'non-signer'
  const score = (flow?.gave ?? 0) - (flow?.took ?? 0)
  if (score > 0) return 'contributor'
  if (score < 0) return 'free-rider'
  return 'newcomer'
}

export function weightOf(standing: Standing, score: number, unit: number): number {
  switch (standing) {
    case 'refused':
    case 'non-signer':
      return LEDGER_WEIGHT_MIN
    case 'newcomer':
      return LEDGER_WEIGHT_NEWCOMER
    case 'contributor':
      return LEDGER_WEIGHT_NEWCOMER + ((LEDGER_WEIGHT_MAX - LEDGER_WEIGHT_NEWCOMER) * score) / (score + unit)
    case 'free-rider':
      return LEDGER_WEIGHT_MIN + ((LEDGER_WEIGHT_NEWCOMER - LEDGER_WEIGHT_MIN) * unit) / (unit - score)
  }
}

export function preferenceOf(standing: Standing): number {
  if (standing === 'contributor') return PREFER_GOOD
  if (standing === 'newcomer') return PREFER_NEUTRAL
  return PREFER_AVOID
}
