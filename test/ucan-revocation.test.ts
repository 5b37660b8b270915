/**
 * Revocations (src/delegation/ucan/revocation.ts): a `/ucan/revoke` invocation by an issuer in the
 * revoked delegation's chain, accepted before the delegation arrives and confirmed when its path
 * does; a revoked link refuses the chains it concerns, and only those.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { DelegationError, InvalidInputError } from '../src/core/errors.ts'
import type { Signer } from '../src/core/signer.ts'
import {
  canRevoke,
  confirmRevocation,
  identityDid,
  identityRootAuthority,
  REVOKE_COMMAND,
  type Revocation,
  revocationCheck,
  signDelegation,
  signInvocation,
  signRevocation,
  validateInvocation,
  verifyRevocation,
} from '../src/delegation/ucan/index.ts'
import { signInvocationPayload } from '../src/delegation/ucan/invocation.ts'
import { fakeDirectory, fakeIdentityId, linearChain, proofStore, signers } from './helpers/ucan.ts'

const NOW = 1_800_000_000
type S = Signer
const [alice, bob, carol, dan, erin, mallory] = signers(6) as [S, S, S, S, S, S]
const base = { cmd: '/store', exp: NOW + 86_400 }

/** A store of received revocations, by the CID they revoke (pending and confirmed alike). */
function revocationStore() {
  const byCid = new Map<string, Revocation[]>()
  return {
    add: (r: Revocation) => byCid.set(r.revoked, [...(byCid.get(r.revoked) ?? []), r]),
    of: (cid: string) => byCid.get(cid) ?? [],
  }
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'passed'
  } catch (err) {
    assert.ok(err instanceof DelegationError, String(err))
    return err.code
  }
}

describe('UCAN revocations', () => {
  it('accepted before the delegation arrives, enforced at once, confirmed when the path arrives', async () => {
    const chain = await linearChain([alice, bob, carol], base)
    const revocation = await signRevocation(bob, chain)
    // The receiver knows none of the delegations yet: the signature and shape are all it checks.
    const received = verifyRevocation(revocation.bytes)
    assert.deepEqual(
      { revoker: received.revoker, revoked: received.revoked, path: received.path, subject: received.subject },
      { revoker: bob.did, revoked: chain[1]?.cid, path: chain.map((d) => d.cid), subject: alice.did },
    )
    const store = revocationStore()
    store.add(received)
    const proofs = proofStore()
    assert.equal(await code(confirmRevocation(received, proofs.lookup, { now: NOW })), 'UnavailableProof', 'pending')
    // The delegations arrive, with an invocation that uses them: refused, naming the revoked link.
    for (const d of chain) proofs.add(d)
    const inv = await signInvocation(
      carol,
      { sub: alice.did, cmd: '/store', prf: chain.map((d) => d.cid) },
      { now: NOW },
    )
    const isRevoked = revocationCheck(store.of)
    await assert.rejects(validateInvocation(inv.bytes, { now: NOW, proofs: proofs.lookup, isRevoked }), (err) => {
      assert.ok(err instanceof DelegationError && err.code === 'Revoked' && err.link === 1, String(err))
      assert.match(err.message, /revoked by/)
      return true
    })
    const confirmed = await confirmRevocation(received, proofs.lookup, { now: NOW })
    assert.deepEqual(
      confirmed.map((d) => d.cid),
      chain.map((d) => d.cid),
    )
    // Without the revocation the same invocation passes (the refusal was the revocation's).
    await validateInvocation(inv.bytes, { now: NOW, proofs: proofs.lookup })
  })

  it('a revocation signed after the delegation is in use (root issuer revokes a deeper link)', async () => {
    const chain = await linearChain([alice, bob, carol, dan], base)
    const proofs = proofStore(chain)
    const inv = await signInvocation(dan, { sub: alice.did, cmd: '/store', prf: chain.map((d) => d.cid) }, { now: NOW })
    const store = revocationStore()
    const options = { now: NOW, proofs: proofs.lookup, isRevoked: revocationCheck(store.of) }
    await validateInvocation(inv.bytes, options)
    const revocation = verifyRevocation((await signRevocation(alice, chain)).bytes)
    await confirmRevocation(revocation, proofs.lookup, { now: NOW })
    store.add(revocation)
    assert.equal(await code(validateInvocation(inv.bytes, options)), 'Revoked')
  })

  it('only an issuer at or before the revoked link may revoke it; others are refused and ignored', async () => {
    const chain = await linearChain([alice, bob, carol, dan], base)
    // Carol issued link 2, not link 1: her revocation of link 1 is well signed but proves nothing.
    const forged = await signInvocationPayload(carol, {
      iss: carol.did,
      sub: alice.did,
      cmd: REVOKE_COMMAND,
      args: { rev: CID.parse(chain[1]!.cid), pth: chain.slice(0, 2).map((d) => CID.parse(d.cid)) },
      prf: [],
      nonce: new Uint8Array(0),
      exp: null,
    })
    const revocation = verifyRevocation(forged.bytes)
    const proofs = proofStore(chain)
    assert.equal(await code(confirmRevocation(revocation, proofs.lookup, { now: NOW })), 'InvalidClaim')
    assert.equal(await canRevoke(revocation, chain), false)
    const store = revocationStore()
    store.add(revocation)
    const inv = await signInvocation(dan, { sub: alice.did, cmd: '/store', prf: chain.map((d) => d.cid) }, { now: NOW })
    await validateInvocation(inv.bytes, { now: NOW, proofs: proofs.lookup, isRevoked: revocationCheck(store.of) })
    // signRevocation refuses to make such a revocation in the first place.
    await assert.rejects(signRevocation(mallory, chain.slice(0, 2)), InvalidInputError)
  })

  it('revokes the link for the chains through the revoker only (another path to it stays valid)', async () => {
    // Dan holds the right twice: alice -> bob -> dan and alice -> carol -> dan; both reach dan -> erin.
    const viaBob = await linearChain([alice, bob, dan], base)
    const viaCarol = await linearChain([alice, carol, dan], base)
    const last = await signDelegation(dan, { sub: alice.did, aud: erin.did, ...base })
    const revocation = await signRevocation(carol, [...viaCarol, last])
    const store = revocationStore()
    store.add(verifyRevocation(revocation.bytes))
    const proofs = proofStore([...viaBob, ...viaCarol, last])
    const isRevoked = revocationCheck(store.of)
    const invoke = (path: typeof viaBob) =>
      signInvocation(erin, { sub: alice.did, cmd: '/store', prf: [...path, last].map((d) => d.cid) }, { now: NOW })
    assert.equal(
      await code(validateInvocation((await invoke(viaCarol)).bytes, { now: NOW, proofs: proofs.lookup, isRevoked })),
      'Revoked',
    )
    assert.equal(
      await code(validateInvocation((await invoke(viaBob)).bytes, { now: NOW, proofs: proofs.lookup, isRevoked })),
      'passed',
    )
  })

  it('any current device of an identity subject may revoke; a stranger may not', async () => {
    const id = fakeIdentityId('revoke')
    const rootAuthority = identityRootAuthority(fakeDirectory(id, [alice, bob]))
    const chain = await linearChain([alice, carol, dan], { ...base, sub: identityDid(id) })
    const byBob = verifyRevocation((await signRevocation(bob, chain)).bytes)
    assert.equal(await canRevoke(byBob, chain, { rootAuthority }), true)
    assert.equal(await canRevoke(byBob, chain), false, 'strict UCAN knows no devices')
    await confirmRevocation(byBob, proofStore(chain).lookup, { now: NOW, rootAuthority })
    const byMallory = verifyRevocation((await signRevocation(mallory, chain)).bytes)
    assert.equal(await canRevoke(byMallory, chain, { rootAuthority }), false)
    assert.equal(
      await code(confirmRevocation(byMallory, proofStore(chain).lookup, { now: NOW, rootAuthority })),
      'InvalidClaim',
    )
  })

  it('one form per revoker and path: signing twice gives the same bytes', async () => {
    const chain = await linearChain([alice, bob], base)
    const [a, b] = [await signRevocation(alice, chain), await signRevocation(alice, chain)]
    assert.equal(a.cid, b.cid)
    assert.deepEqual(a.bytes, b.bytes)
  })

  it('malformed revocations and bad signatures are refused for what they are', async () => {
    const chain = await linearChain([alice, bob, carol], base)
    const good = {
      iss: alice.did,
      sub: alice.did,
      cmd: REVOKE_COMMAND,
      args: { rev: CID.parse(chain[1]!.cid), pth: chain.map((d) => CID.parse(d.cid)) },
      prf: [] as CID[],
      nonce: new Uint8Array(0),
      exp: null as number | null,
    }
    const variants: Array<[string, Partial<typeof good>]> = [
      ['another command', { cmd: '/store' }],
      ['a nonce', { nonce: new Uint8Array(16) }],
      ['an expiry', { exp: NOW + 10 }],
      ['a path not ending with the revoked link', { args: { rev: CID.parse(chain[0]!.cid), pth: good.args.pth } }],
      ['an unknown argument', { args: { ...good.args, why: 'no' } as typeof good.args }],
      ['proofs', { prf: [CID.parse(chain[0]!.cid)] }],
    ]
    for (const [what, change] of variants) {
      const bytes = (await signInvocationPayload(alice, { ...good, ...change })).bytes
      assert.throws(
        () => verifyRevocation(bytes),
        (err) => err instanceof DelegationError && err.code === 'Malformed',
        what,
      )
    }
    const ok = await signInvocationPayload(alice, good)
    verifyRevocation(ok.bytes)
    const tampered = Uint8Array.from(ok.bytes)
    tampered[10] = (tampered[10] as number) ^ 1
    assert.throws(
      () => verifyRevocation(tampered),
      (err) => err instanceof DelegationError && err.code === 'InvalidSignature',
    )
  })
})
