/**
 * The rules a chain of delegations must follow, one function per rule, each throwing a
 * DelegationError that names the link: time bounds, principal alignment, subject alignment and
 * powerlines, root authority, command attenuation, removed devices, revocations, policies.
 * chain.ts runs them in the documented order.
 */
import { DelegationError, type DelegationErrorCode, type DelegationErrorLink } from '../../core/errors.ts'
import type { Delegation } from './delegation.ts'
import { clip } from './did.ts'
import { commandCovers } from './fields.ts'
import type { UcanLimits } from './limits.ts'
import { evaluatePolicy } from './policy.ts'

export type Awaitable<T> = T | Promise<T>

/**
 * Decides whether `rootIssuer` may issue the root delegation of a chain about `subject` (or
 * invoke on it with no proof). Returns if so; throws DelegationError (`InvalidClaim`) if not.
 */
export type RootAuthority = (subject: string, rootIssuer: string, context: { now: number }) => Awaitable<void>
/** Why the delegation `cid` is revoked for a chain that reaches it through `path` (root first, ending with it), or undefined. */
export type RevocationCheck = (cid: string, path: readonly Delegation[]) => Awaitable<string | undefined>
/** Why the device `did` may no longer sign (it was removed from its identity by `atSeconds`), or undefined. */
export type DeviceRemovalCheck = (did: string, atSeconds: number) => Awaitable<string | undefined>

/** Strict UCAN: the root delegation is issued by its subject itself. */
export const strictRootAuthority: RootAuthority = (subject, rootIssuer) => {
  if (subject !== rootIssuer) {
    throw new DelegationError(`issued by ${clip(rootIssuer)}, not by its subject ${clip(subject)}`, 'InvalidClaim')
  }
}

/** A refusal naming the link: `delegation 2 (bafy...): why`. */
export function refuse(code: DelegationErrorCode, link: DelegationErrorLink, cid: string | undefined, why: string) {
  const what = typeof link === 'number' ? `delegation ${link}` : link
  return new DelegationError(`${what}${cid === undefined ? '' : ` (${cid})`}: ${why}`, code, {
    link,
    ...(cid === undefined ? {} : { cid }),
  })
}

export function time(seconds: number): string {
  return Math.abs(seconds) < 8.64e12 ? new Date(seconds * 1000).toISOString() : `${seconds} s`
}

/** Every delegation valid at `now`, give or take `skew` seconds. */
export function checkTimes(chain: readonly Delegation[], now: number, skew: number): void {
  chain.forEach(({ cid, payload: { nbf, exp } }, i) => {
    if (exp !== null && now - skew > exp) {
      throw refuse('Expired', i, cid, `expired at ${time(exp)} (now ${time(now)}, skew ${skew} s)`)
    }
    if (nbf !== undefined && now + skew < nbf) {
      throw refuse('TooEarly', i, cid, `not valid before ${time(nbf)} (now ${time(now)}, skew ${skew} s)`)
    }
  })
}

/** Each delegation's `aud` is the next one's `iss`; the last one's is the invoker (when there is one). */
export function checkPrincipals(chain: readonly Delegation[], invocation?: { iss: string; cid: string }): void {
  for (let i = 1; i < chain.length; i++) {
    const [parent, child] = [chain[i - 1] as Delegation, chain[i] as Delegation]
    if (parent.payload.aud !== child.payload.iss) {
      throw refuse(
        'InvalidAudience',
        i,
        child.cid,
        `issued by ${clip(child.payload.iss)}, but delegation ${i - 1} was given to ${clip(parent.payload.aud)}`,
      )
    }
  }
  const last = chain.at(-1)
  if (invocation !== undefined && last !== undefined && last.payload.aud !== invocation.iss) {
    throw refuse(
      'InvalidAudience',
      'invocation',
      invocation.cid,
      `invoked by ${clip(invocation.iss)}, but the last delegation was given to ${clip(last.payload.aud)}`,
    )
  }
}

/**
 * The root names a subject (a powerline, `sub: null`, cannot be a root); every other link names
 * the same subject or none (a powerline takes the subject of the link before it); so does the
 * invocation. Returns the subject.
 */
export function checkSubjects(chain: readonly Delegation[], invocation?: { sub: string; cid: string }): string {
  const root = chain[0] as Delegation
  const subject = root.payload.sub
  if (subject === null) throw refuse('InvalidClaim', 0, root.cid, 'a powerline (null subject) cannot be the root')
  chain.forEach(({ cid, payload: { sub } }, i) => {
    if (sub !== null && sub !== subject) {
      throw refuse('InvalidSubject', i, cid, `is about ${clip(sub)}, but the chain is about ${clip(subject)}`)
    }
  })
  if (invocation !== undefined && invocation.sub !== subject) {
    throw refuse(
      'InvalidSubject',
      'invocation',
      invocation.cid,
      `is about ${clip(invocation.sub)}, but its proofs about ${clip(subject)}`,
    )
  }
  return subject
}

/** The root issuer has authority over the subject (strict UCAN by default; identities by the hook). */
export async function checkRoot(
  authority: RootAuthority,
  subject: string,
  rootIssuer: string,
  now: number,
  link: DelegationErrorLink,
  cid: string,
): Promise<void> {
  try {
    await authority(subject, rootIssuer, { now })
  } catch (err) {
    if (err instanceof DelegationError && err.link === undefined) throw refuse(err.code, link, cid, err.message)
    throw err
  }
}

/** Each command is its parent's or below it (attenuation); widening it is an escalation. */
export function checkCommands(chain: readonly Delegation[], invocation?: { cmd: string; cid: string }): void {
  for (let i = 1; i < chain.length; i++) {
    const [parent, child] = [chain[i - 1] as Delegation, chain[i] as Delegation]
    if (!commandCovers(parent.payload.cmd, child.payload.cmd)) {
      throw refuse(
        'Escalation',
        i,
        child.cid,
        `grants ${clip(child.payload.cmd)}, beyond its parent's ${clip(parent.payload.cmd)}`,
      )
    }
  }
  const last = chain.at(-1)
  if (invocation !== undefined && last !== undefined && !commandCovers(last.payload.cmd, invocation.cmd)) {
    throw refuse(
      'Escalation',
      'invocation',
      invocation.cid,
      `invokes ${clip(invocation.cmd)}, beyond the granted ${clip(last.payload.cmd)}`,
    )
  }
}

/** No link (nor the invocation) is signed by a device removed from its identity. */
export async function checkDevices(
  check: DeviceRemovalCheck | undefined,
  chain: readonly Delegation[],
  now: number,
  invocation?: { iss: string; cid: string },
): Promise<void> {
  if (check === undefined) return
  for (const [i, { cid, payload }] of chain.entries()) {
    const reason = await check(payload.iss, now)
    if (reason !== undefined) throw refuse('DeviceRemoved', i, cid, `issued by a removed device: ${reason}`)
  }
  if (invocation !== undefined) {
    const reason = await check(invocation.iss, now)
    if (reason !== undefined)
      throw refuse('DeviceRemoved', 'invocation', invocation.cid, `signed by a removed device: ${reason}`)
  }
}

/** No link is revoked (for a chain that reaches it this way). */
export async function checkRevocations(
  check: RevocationCheck | undefined,
  chain: readonly Delegation[],
): Promise<void> {
  if (check === undefined) return
  for (const [i, { cid }] of chain.entries()) {
    const reason = await check(cid, chain.slice(0, i + 1))
    if (reason !== undefined) throw refuse('Revoked', i, cid, reason)
  }
}

/** Every policy in the chain holds for the invocation's arguments. */
export function checkPolicies(chain: readonly Delegation[], args: unknown, limits: UcanLimits): void {
  chain.forEach(({ cid, policy }, i) => {
    const result = evaluatePolicy(policy, args, limits)
    if (!result.ok) throw refuse('MatchError', i, cid, `its policy does not hold for the arguments: ${result.reason}`)
  })
}
