/**
 * The bounds every UCAN decoder and evaluator applies, before it allocates or loops: envelope
 * sizes, chain length, policy depth, size and evaluation steps. Each is a verification option
 * (`limits`), defaulting to the named constants in core/constants.ts.
 */
import {
  DEFAULT_UCAN_DELEGATION_MAX_BYTES,
  DEFAULT_UCAN_INVOCATION_MAX_BYTES,
  DEFAULT_UCAN_MAX_CHAIN,
  DEFAULT_UCAN_POLICY_MAX_DEPTH,
  DEFAULT_UCAN_POLICY_MAX_STATEMENTS,
  DEFAULT_UCAN_POLICY_MAX_STEPS,
} from '../../core/constants.ts'

export interface UcanLimits {
  /** Largest delegation envelope, bytes (DEFAULT_UCAN_DELEGATION_MAX_BYTES). */
  delegationMaxBytes: number
  /** Largest invocation or revocation envelope, bytes (DEFAULT_UCAN_INVOCATION_MAX_BYTES). */
  invocationMaxBytes: number
  /** Delegations in one chain (DEFAULT_UCAN_MAX_CHAIN). */
  maxChain: number
  /** Nesting depth of a policy (DEFAULT_UCAN_POLICY_MAX_DEPTH). */
  policyMaxDepth: number
  /** Statements in one policy, nested ones included (DEFAULT_UCAN_POLICY_MAX_STATEMENTS). */
  policyMaxStatements: number
  /** Steps of one policy evaluation (DEFAULT_UCAN_POLICY_MAX_STEPS). */
  policyMaxSteps: number
}

export const DEFAULT_UCAN_LIMITS: Readonly<UcanLimits> = Object.freeze({
  delegationMaxBytes: DEFAULT_UCAN_DELEGATION_MAX_BYTES,
  invocationMaxBytes: DEFAULT_UCAN_INVOCATION_MAX_BYTES,
  maxChain: DEFAULT_UCAN_MAX_CHAIN,
  policyMaxDepth: DEFAULT_UCAN_POLICY_MAX_DEPTH,
  policyMaxStatements: DEFAULT_UCAN_POLICY_MAX_STATEMENTS,
  policyMaxSteps: DEFAULT_UCAN_POLICY_MAX_STEPS,
})

/** The defaults with the caller's overrides (`undefined` keeps the default). */
export function ucanLimits(overrides: Partial<UcanLimits> = {}): UcanLimits {
  const limits = { ...DEFAULT_UCAN_LIMITS }
  for (const key of Object.keys(limits) as Array<keyof UcanLimits>) {
    const value = overrides[key]
    if (value !== undefined) limits[key] = value
  }
  return limits
}

/** Now, as UCAN counts time: whole seconds since the Unix epoch. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
