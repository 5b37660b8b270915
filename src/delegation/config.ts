/** The `delegation` section of config.json (docs/config.md, docs/protocols/delegation.md). */
import {
  DEFAULT_DELEGATION_LOG_WAIT_MS,
  DEFAULT_DELEGATION_SWEEP_MS,
  DEFAULT_DELEGATION_TIMEOUT_MS,
  DEFAULT_DELEGATIONS_MAX,
  DEFAULT_DELEGATIONS_PER_SUBJECT,
  DEFAULT_REVOCATIONS_MAX,
  DEFAULT_REVOCATIONS_PER_REVOKER,
  DEFAULT_UCAN_CLOCK_SKEW_S,
  DEFAULT_UCAN_INVOCATION_TTL_S,
  DEFAULT_UCAN_REPLAY_MAX_ENTRIES,
} from '../core/constants.ts'
import { count, millis, type Static, section } from '../core/settings.ts'

export const delegationConfig = section('Delegation: rights given to other peers, and taken back', {
  clockSkewS: count('seconds of clock difference allowed on every nbf/exp', DEFAULT_UCAN_CLOCK_SKEW_S, {
    maximum: 3600,
  }),
  invocationTtlS: count('invocations this node signs expire after this many seconds', DEFAULT_UCAN_INVOCATION_TTL_S, {
    minimum: 10,
    maximum: 900,
  }),
  delegationsMax: count('delegations kept (given, received and their proofs)', DEFAULT_DELEGATIONS_MAX, {
    minimum: 16,
  }),
  revocationsMax: count('revocations kept', DEFAULT_REVOCATIONS_MAX, { minimum: 16 }),
  perSubjectMax: count(
    'grants from one identity kept here at once (a fair share: one identity never fills the store)',
    DEFAULT_DELEGATIONS_PER_SUBJECT,
    { minimum: 1 },
  ),
  perRevokerMax: count('revocations kept from one signer', DEFAULT_REVOCATIONS_PER_REVOKER, { minimum: 1 }),
  replayMax: count(
    'invocations remembered until they expire, so none is taken twice',
    DEFAULT_UCAN_REPLAY_MAX_ENTRIES,
    {
      minimum: 16,
    },
  ),
  sweepIntervalMs: millis(
    'held grants are checked again (expiry, removed devices) this often',
    DEFAULT_DELEGATION_SWEEP_MS,
  ),
  timeoutMs: millis('sending a grant or a revocation to a peer gives up after this', DEFAULT_DELEGATION_TIMEOUT_MS),
  logWaitMs: millis("a received grant waits this long for its subject's identity log", DEFAULT_DELEGATION_LOG_WAIT_MS),
})
export type DelegationConfig = Static<typeof delegationConfig>
