/**
 * Lateral's own cases for UCAN chains (src/delegation/ucan/chain.ts), each refused for its own
 * reason: a forged chain, an escalating one, one through a removed device, a token not yet valid,
 * an expired one, a replayed invocation, a revoked link (revocation before and after the
 * delegation arrives), identity subjects and their root authority; and a 5-link chain that passes.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DelegationError, type DelegationErrorCode } from '../src/core/errors.ts'
import { signRecord } from '../src/core/signed-record.ts'
import type { Signer } from '../src/core/signer.ts'
import {
  createDelegationCache,
  createReplayGuard,
  DELEGATION_TAG,
  identityDid,
  identityRootAuthority,
  removedDeviceCheck,
  signDelegation,
  signInvocation,
  validateDelegationChain,
  validateInvocation,
} from '../src/delegation/ucan/index.ts'
import { fakeDirectory, fakeIdentityId, linearChain, proofStore, signers } from './helpers/ucan.ts'

const NOW = 1_800_000_000
const DAY = 86_400
type S = Signer
const [alice, bob, carol, dan, erin, frank, mallory] = signers(7) as [S, S, S, S, S, S, S]

/** Assert a rejection with this DelegationError code (and, if given, link). */
async function refused(
  promise: Promise<unknown>,
  code: DelegationErrorCode,
  link?: number | 'invocation' | 'revocation',
): Promise<DelegationError> {
  let caught: unknown
  await assert.rejects(promise, (err: unknown) => {
    caught = err
    return true
  })
  assert.ok(caught instanceof DelegationError, `a DelegationError, not ${String(caught)}`)
  assert.equal(caught.code, code, caught.message)
  if (link !== undefined) assert.equal(caught.link, link, caught.message)
  return caught
}

const base = { cmd: '/store', exp: NOW + DAY }

describe('UCAN chains: what passes', () => {
  it('a 5-link chain and an invocation by its last audience', async () => {
    const chain = await linearChain([alice, bob, carol, dan, erin, frank], base, (i) => ({
      cmd: ['/store', '/store', '/store/put', '/store/put', '/store/put'][i] as string,
    }))
    const inv = await signInvocation(
      frank,
      { sub: alice.did, cmd: '/store/put', args: { size: 5 }, prf: chain.map((d) => d.cid) },
      { now: NOW },
    )
    const result = await validateInvocation(inv.bytes, { now: NOW, proofs: proofStore(chain).lookup })
    assert.equal(result.subject, alice.did)
    assert.equal(result.chain.length, 5)
    assert.deepEqual(
      result.chain.map((d) => d.cid),
      chain.map((d) => d.cid),
    )
  })

  it('a held chain: what it grants, to whom, until when', async () => {
    const chain = await linearChain([alice, bob, carol], base, (i) => ({
      cmd: i === 0 ? '/store' : '/store/put',
      exp: NOW + (i + 1) * DAY,
      nbf: NOW - 10 * (i + 1),
    }))
    const held = await validateDelegationChain(
      chain.map((d) => d.bytes),
      { now: NOW, audience: carol.did },
    )
    assert.deepEqual(
      {
        subject: held.subject,
        command: held.command,
        audience: held.audience,
        exp: held.expiresAt,
        nbf: held.notBefore,
      },
      { subject: alice.did, command: '/store/put', audience: carol.did, exp: NOW + DAY, nbf: NOW - 10 },
    )
    await refused(validateDelegationChain([chain[0]!.bytes], { now: NOW, audience: carol.did }), 'InvalidAudience', 0)
  })

  it('a cache of verified delegations skips their lookups and signatures, not the other checks', async () => {
    const chain = await linearChain([alice, bob, carol], base)
    const store = proofStore(chain)
    let lookups = 0
    const proofs = (cid: string) => {
      lookups++
      return store.lookup(cid)
    }
    const verified = createDelegationCache({ maxEntries: 8 })
    const invoke = (exp: number) =>
      signInvocation(carol, { sub: alice.did, cmd: '/store', prf: chain.map((d) => d.cid), exp }, { now: NOW })
    await validateInvocation((await invoke(NOW + 60)).bytes, { now: NOW, proofs, verified })
    assert.equal(lookups, 2)
    await validateInvocation((await invoke(NOW + 61)).bytes, { now: NOW, proofs, verified })
    assert.equal(lookups, 2, 'the second validation found both links in the cache')
    // Cached links are still checked for time and revocation at each use.
    const later = await invoke(NOW + 2 * DAY)
    await refused(
      validateInvocation(later.bytes, { now: NOW + 2 * DAY - 100, proofs, verified, maxTtlSeconds: null }),
      'Expired',
      0,
    )
    const isRevoked = (cid: string) => (cid === chain[1]?.cid ? 'revoked in this test' : undefined)
    await refused(
      validateInvocation((await invoke(NOW + 62)).bytes, { now: NOW, proofs, verified, isRevoked }),
      'Revoked',
      1,
    )
    // And a held chain given as bytes uses it too.
    await validateDelegationChain(
      chain.map((d) => d.bytes),
      { now: NOW, verified },
    )
  })
})

describe('UCAN chains: each refused for its own reason', () => {
  it('forged: a link signed by another key than its issuer’s (InvalidSignature)', async () => {
    const [root, child] = await linearChain([alice, bob, carol], base)
    // Mallory writes a delegation in Bob's name (iss: bob) and signs it with her own key.
    const forged = await signRecord(mallory, { ...child!.payload, aud: mallory.did }, { type: DELEGATION_TAG })
    const inv = await signInvocation(
      mallory,
      { sub: alice.did, cmd: '/store', prf: [root!.cid, forged.cid.toString()] },
      { now: NOW },
    )
    const proofs = proofStore([root!])
    const lookup = (cid: string) => (cid === forged.cid.toString() ? forged.bytes : proofs.lookup(cid))
    await refused(validateInvocation(inv.bytes, { now: NOW, proofs: lookup }), 'InvalidSignature', 1)
  })

  it('forged: a link from someone never given the right (InvalidAudience)', async () => {
    const [root] = await linearChain([alice, bob], base)
    const stray = await signDelegation(mallory, { sub: alice.did, aud: erin.did, ...base })
    const inv = await signInvocation(erin, { sub: alice.did, cmd: '/store', prf: [root!.cid, stray.cid] }, { now: NOW })
    await refused(
      validateInvocation(inv.bytes, { now: NOW, proofs: proofStore([root!, stray]).lookup }),
      'InvalidAudience',
      1,
    )
  })

  it('escalating: a child widening its parent’s command, or an invocation beyond it (Escalation)', async () => {
    const widened = await linearChain([alice, bob, carol], base, (i) => ({ cmd: i === 0 ? '/store/put' : '/store' }))
    const inv = await signInvocation(
      carol,
      { sub: alice.did, cmd: '/store/put', prf: widened.map((d) => d.cid) },
      { now: NOW },
    )
    await refused(validateInvocation(inv.bytes, { now: NOW, proofs: proofStore(widened).lookup }), 'Escalation', 1)
    const narrow = await linearChain([alice, bob], { ...base, cmd: '/store/put' })
    for (const cmd of ['/store/drop', '/store/putx', '/']) {
      const beyond = await signInvocation(bob, { sub: alice.did, cmd, prf: [narrow[0]!.cid] }, { now: NOW })
      await refused(
        validateInvocation(beyond.bytes, { now: NOW, proofs: proofStore(narrow).lookup }),
        'Escalation',
        'invocation',
      )
    }
    const below = await signInvocation(
      bob,
      { sub: alice.did, cmd: '/store/put/big', prf: [narrow[0]!.cid] },
      { now: NOW },
    )
    await validateInvocation(below.bytes, { now: NOW, proofs: proofStore(narrow).lookup })
  })

  it('through a removed device: every delegation it issued is void (DeviceRemoved)', async () => {
    const id = fakeIdentityId('removed')
    const directory = fakeDirectory(id, [alice], [{ signer: bob, at: (NOW - 60) * 1000 }])
    const options = {
      now: NOW,
      rootAuthority: identityRootAuthority(directory),
      isDeviceRevoked: removedDeviceCheck(directory),
    }
    // Alice (current) grants Bob's device, Bob passes it on to Carol; then Bob's device was removed.
    const chain = await linearChain([alice, bob, carol], { ...base, sub: identityDid(id) })
    const inv = await signInvocation(
      carol,
      { sub: identityDid(id), cmd: '/store', prf: chain.map((d) => d.cid) },
      { now: NOW },
    )
    await refused(validateInvocation(inv.bytes, { ...options, proofs: proofStore(chain).lookup }), 'DeviceRemoved', 1)
    // Before the removal the same chain was good.
    await validateInvocation(inv.bytes, { ...options, now: NOW - 120, proofs: proofStore(chain).lookup })
    // An invocation signed by the removed device itself.
    const own = await signInvocation(bob, { sub: identityDid(id), cmd: '/store', prf: [chain[0]!.cid] }, { now: NOW })
    await refused(
      validateInvocation(own.bytes, { ...options, proofs: proofStore(chain).lookup }),
      'DeviceRemoved',
      'invocation',
    )
  })

  it('not yet valid (TooEarly), valid within the clock skew', async () => {
    const [early] = await linearChain([alice, bob], { ...base, nbf: NOW + 600 })
    const inv = await signInvocation(
      bob,
      { sub: alice.did, cmd: '/store', prf: [early!.cid], exp: NOW + 900 },
      { now: NOW },
    )
    const proofs = proofStore([early!]).lookup
    await refused(validateInvocation(inv.bytes, { now: NOW, proofs }), 'TooEarly', 0)
    await validateInvocation(inv.bytes, { now: NOW + 600 - 60, proofs })
    await refused(validateInvocation(inv.bytes, { now: NOW + 600 - 61, proofs }), 'TooEarly', 0)
  })

  it('expired delegation or invocation (Expired), valid within the clock skew', async () => {
    const [short] = await linearChain([alice, bob], { ...base, exp: NOW + 100 })
    const inv = await signInvocation(
      bob,
      { sub: alice.did, cmd: '/store', prf: [short!.cid], exp: NOW + 1000 },
      { now: NOW },
    )
    const proofs = proofStore([short!]).lookup
    await validateInvocation(inv.bytes, { now: NOW + 160, proofs })
    await refused(validateInvocation(inv.bytes, { now: NOW + 161, proofs }), 'Expired', 0)
    const [long] = await linearChain([alice, bob], base)
    const late = await signInvocation(
      bob,
      { sub: alice.did, cmd: '/store', prf: [long!.cid], exp: NOW + 10 },
      { now: NOW },
    )
    await refused(
      validateInvocation(late.bytes, { now: NOW + 71, proofs: proofStore([long!]).lookup }),
      'Expired',
      'invocation',
    )
  })

  it('replayed: an invocation seen before is refused until its exp; the record is bounded', async () => {
    const [grant] = await linearChain([alice, bob], base)
    const replay = createReplayGuard({ maxEntries: 2 })
    const options = { now: NOW, proofs: proofStore([grant!]).lookup, replay }
    const invoke = () =>
      signInvocation(bob, { sub: alice.did, cmd: '/store', prf: [grant!.cid], exp: NOW + 100 }, { now: NOW })
    const first = await invoke()
    await validateInvocation(first.bytes, options)
    await refused(validateInvocation(first.bytes, options), 'Replayed', 'invocation')
    await validateInvocation((await invoke()).bytes, options)
    // Full of unexpired invocations: the next one is refused rather than one forgotten.
    const third = await invoke()
    await refused(validateInvocation(third.bytes, options), 'ReplayStoreFull', 'invocation')
    assert.equal(replay.size, 2)
    // Once the first two are past their exp (and the skew), the record takes new ones.
    const later = await signInvocation(bob, { sub: alice.did, cmd: '/store', prf: [grant!.cid] }, { now: NOW + 200 })
    await validateInvocation(later.bytes, { ...options, now: NOW + 200 })
    assert.equal(replay.size, 1)
  })

  it('Lateral refuses invocations that never expire or expire too far ahead (Malformed)', async () => {
    const [grant] = await linearChain([alice, bob], base)
    const proofs = proofStore([grant!]).lookup
    const far = await signInvocation(
      bob,
      { sub: alice.did, cmd: '/store', prf: [grant!.cid], exp: NOW + 3600 },
      { now: NOW },
    )
    await refused(validateInvocation(far.bytes, { now: NOW, proofs }), 'Malformed', 'invocation')
    await validateInvocation(far.bytes, { now: NOW, proofs, maxTtlSeconds: 7200 })
  })

  it('for another executor (InvalidAudience)', async () => {
    const [grant] = await linearChain([alice, bob], base)
    const inv = await signInvocation(
      bob,
      { sub: alice.did, aud: dan.did, cmd: '/store', prf: [grant!.cid] },
      { now: NOW },
    )
    const proofs = proofStore([grant!]).lookup
    await validateInvocation(inv.bytes, { now: NOW, proofs, executor: dan.did })
    await refused(
      validateInvocation(inv.bytes, { now: NOW, proofs, executor: erin.did }),
      'InvalidAudience',
      'invocation',
    )
  })

  it('a policy of any link that does not hold for the arguments (MatchError, naming the link)', async () => {
    const chain = await linearChain([alice, bob, carol], base, (i) => ({
      pol: i === 0 ? [['<=', '.size', 1000]] : [['like', '.name', '*.txt']],
    }))
    const proofs = proofStore(chain).lookup
    const invoke = (args: Record<string, unknown>) =>
      signInvocation(carol, { sub: alice.did, cmd: '/store', args, prf: chain.map((d) => d.cid) }, { now: NOW })
    await validateInvocation((await invoke({ size: 10, name: 'a.txt' })).bytes, { now: NOW, proofs })
    await refused(
      validateInvocation((await invoke({ size: 2000, name: 'a.txt' })).bytes, { now: NOW, proofs }),
      'MatchError',
      0,
    )
    await refused(
      validateInvocation((await invoke({ size: 1, name: 'a.exe' })).bytes, { now: NOW, proofs }),
      'MatchError',
      1,
    )
    await refused(validateInvocation((await invoke({ name: 'a.txt' })).bytes, { now: NOW, proofs }), 'MatchError', 0)
  })

  it('a proof store that gives other bytes than the CID asked (UnavailableProof)', async () => {
    const [grant] = await linearChain([alice, bob], base)
    const [other] = await linearChain([alice, bob], base)
    const inv = await signInvocation(bob, { sub: alice.did, cmd: '/store', prf: [grant!.cid] }, { now: NOW })
    await refused(validateInvocation(inv.bytes, { now: NOW, proofs: () => other!.bytes }), 'UnavailableProof', 0)
  })
})

describe('UCAN chains: identity subjects (did:lateral) and their root authority', () => {
  const id = fakeIdentityId('identity')
  const sub = identityDid(id)
  const directory = fakeDirectory(id, [alice, bob])
  const rootAuthority = identityRootAuthority(directory)

  it('a current device of the identity roots its chains; strict UCAN (the default) refuses them', async () => {
    const chain = await linearChain([alice, carol], { ...base, sub })
    const inv = await signInvocation(carol, { sub, cmd: '/store', prf: [chain[0]!.cid] }, { now: NOW })
    const proofs = proofStore(chain).lookup
    const result = await validateInvocation(inv.bytes, { now: NOW, proofs, rootAuthority })
    assert.equal(result.subject, sub)
    await refused(validateInvocation(inv.bytes, { now: NOW, proofs }), 'InvalidClaim', 0)
  })

  it('a device that is not (or no longer) current, or an unknown identity: InvalidClaim', async () => {
    const chain = await linearChain([dan, carol], { ...base, sub })
    const inv = await signInvocation(carol, { sub, cmd: '/store', prf: [chain[0]!.cid] }, { now: NOW })
    await refused(
      validateInvocation(inv.bytes, { now: NOW, proofs: proofStore(chain).lookup, rootAuthority }),
      'InvalidClaim',
      0,
    )
    const stranger = identityDid(fakeIdentityId('unknown'))
    const unknown = await linearChain([alice, carol], { ...base, sub: stranger })
    const inv2 = await signInvocation(carol, { sub: stranger, cmd: '/store', prf: [unknown[0]!.cid] }, { now: NOW })
    await refused(
      validateInvocation(inv2.bytes, { now: NOW, proofs: proofStore(unknown).lookup, rootAuthority }),
      'InvalidClaim',
      0,
    )
  })

  it('a device invokes for its own identity with no proof; another device cannot', async () => {
    const own = await signInvocation(bob, { sub, cmd: '/store/put', prf: [] }, { now: NOW })
    await validateInvocation(own.bytes, { now: NOW, proofs: () => undefined, rootAuthority })
    const foreign = await signInvocation(carol, { sub, cmd: '/store/put', prf: [] }, { now: NOW })
    await refused(
      validateInvocation(foreign.bytes, { now: NOW, proofs: () => undefined, rootAuthority }),
      'InvalidClaim',
      'invocation',
    )
  })

  it('a powerline root is refused (InvalidClaim); a powerline below a root passes', async () => {
    const [root] = await linearChain([alice, bob], { ...base, sub: null })
    const inv = await signInvocation(bob, { sub, cmd: '/store', prf: [root!.cid] }, { now: NOW })
    await refused(
      validateInvocation(inv.bytes, { now: NOW, proofs: proofStore([root!]).lookup, rootAuthority }),
      'InvalidClaim',
      0,
    )
    const chain = await linearChain([alice, bob, carol], { ...base, sub }, (i) => (i === 1 ? { sub: null } : {}))
    const ok = await signInvocation(carol, { sub, cmd: '/store', prf: chain.map((d) => d.cid) }, { now: NOW })
    await validateInvocation(ok.bytes, { now: NOW, proofs: proofStore(chain).lookup, rootAuthority })
  })
})
