/**
 * Properties of the UCAN module (src/delegation/ucan/): hostile bytes (random, mutated tokens,
 * well-signed nonsense payloads, proofs that are not what they claim) raise only DelegationError
 * (or InvalidInputError for a policy parsed on its own), and a token verifies only in the form it
 * was signed; policies parse or are refused, and evaluate without throwing; `!=` is `not ==`, De
 * Morgan holds in the three-valued logic; globs agree with a regular-expression oracle; command
 * attenuation is segment-prefix order.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { DelegationError, InvalidInputError } from '../src/core/errors.ts'
import { signRecord } from '../src/core/signed-record.ts'
import type { Signer } from '../src/core/signer.ts'
import {
  commandCovers,
  DELEGATION_TAG,
  type Delegation,
  evaluatePolicy,
  INVOCATION_TAG,
  parsePolicy,
  signDelegation,
  signInvocation,
  signRevocation,
  validateDelegationChain,
  validateInvocation,
  verifyDelegation,
  verifyInvocation,
  verifyRevocation,
} from '../src/delegation/ucan/index.ts'
import { anyCborValue, mutated } from './helpers/mutations.ts'
import { linearChain, proofStore, signers } from './helpers/ucan.ts'

const NOW = 1_800_000_000
type S = Signer
const [alice, bob, carol] = signers(3) as [S, S, S]

function onlyDelegationErrors(fn: () => unknown): unknown {
  try {
    return fn()
  } catch (err) {
    assert.ok(err instanceof DelegationError, `unexpected ${(err as Error)?.name}: ${(err as Error)?.message}`)
    return undefined
  }
}

async function onlyDelegationErrorsAsync(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    return await fn()
  } catch (err) {
    assert.ok(err instanceof DelegationError, `unexpected ${(err as Error)?.name}: ${(err as Error)?.message}`)
    return undefined
  }
}

const selector = fc.constantFrom(
  '.',
  '.a',
  '.a.b',
  '.list[0]',
  '.list[-1]',
  '.list[]',
  '.m["k"]',
  '.a?',
  '.list[1:]',
  '.x.y?',
)
const leafValue = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom('a', 'b', null, true),
  fc.double({ min: -3, max: 3, noNaN: true }).filter((d) => !Object.is(d, -0)),
)
const { statement } = fc.letrec<{ statement: unknown }>((tie) => ({
  statement: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(fc.constantFrom('==', '!='), selector, leafValue),
    fc.tuple(fc.constantFrom('<', '<=', '>', '>='), selector, fc.integer({ min: -3, max: 3 })),
    fc.tuple(fc.constant('like'), selector, fc.constantFrom('*', 'a*', '*b', 'a', '\\*')),
    fc.tuple(fc.constant('not'), tie('statement')),
    fc.tuple(fc.constantFrom('and', 'or'), fc.array(tie('statement'), { maxLength: 3 })),
    fc.tuple(fc.constantFrom('all', 'any'), selector, tie('statement')),
  ),
}))
const argsValue = fc.record({
  a: fc.oneof(leafValue, fc.record({ b: leafValue })),
  list: fc.array(leafValue, { maxLength: 4 }),
  m: fc.dictionary(fc.constantFrom('k', 'l'), leafValue),
})

describe('UCAN properties: hostile bytes', () => {
  it('mutated delegations, invocations and revocations raise only DelegationError, and never verify changed (numRuns 1500)', async () => {
    const chain = await linearChain([alice, bob, carol], { cmd: '/store', exp: NOW + 100, pol: [['==', '.a', 1]] })
    const inv = await signInvocation(carol, {
      sub: alice.did,
      cmd: '/store',
      args: { a: 1 },
      prf: chain.map((d) => d.cid),
    })
    const rev = await signRevocation(alice, chain)
    const tokens: Array<[Uint8Array, (b: Uint8Array) => unknown]> = [
      [chain[0]!.bytes, verifyDelegation],
      [chain[1]!.bytes, verifyDelegation],
      [inv.bytes, verifyInvocation],
      [rev.bytes, verifyRevocation],
    ]
    fc.assert(
      fc.property(
        fc.nat({ max: tokens.length - 1 }).chain((i) => fc.tuple(fc.constant(i), mutated(fc.constant(tokens[i]![0])))),
        ([i, bytes]) => {
          const [original, verify] = tokens[i]!
          if (onlyDelegationErrors(() => verify(bytes)) !== undefined) assert.deepEqual(bytes, original)
        },
      ),
      { numRuns: 1500 },
    )
  })

  it('random bytes, and validation with random proof bytes, raise only DelegationError (numRuns 500)', async () => {
    const chain = await linearChain([alice, bob], { cmd: '/store', exp: NOW + 100 })
    const inv = await signInvocation(bob, { sub: alice.did, cmd: '/store', prf: [chain[0]!.cid] }, { now: NOW })
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 400 }),
        mutated(fc.constant(chain[0]!.bytes)),
        async (junk, proof) => {
          onlyDelegationErrors(() => verifyDelegation(junk))
          onlyDelegationErrors(() => verifyInvocation(junk))
          onlyDelegationErrors(() => verifyRevocation(junk))
          await onlyDelegationErrorsAsync(() => validateInvocation(junk, { now: NOW, proofs: () => proof }))
          await onlyDelegationErrorsAsync(() => validateInvocation(inv.bytes, { now: NOW, proofs: () => proof }))
          await onlyDelegationErrorsAsync(() => validateDelegationChain([proof, junk], { now: NOW }))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('well-signed payloads of any shape raise only DelegationError (numRuns 500)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          fc.constantFrom('iss', 'aud', 'sub', 'cmd', 'pol', 'nonce', 'exp', 'nbf', 'meta', 'args', 'prf', 'x'),
          anyCborValue(),
        ),
        fc.boolean(),
        async (fields, asDelegation) => {
          // Fill in a valid issuer most of the time, so the payload checks run past it.
          const payload = { ...fields, iss: fields.iss ?? alice.did }
          const { bytes } = await signRecord(alice, payload, { type: asDelegation ? DELEGATION_TAG : INVOCATION_TAG })
          onlyDelegationErrors(() => (asDelegation ? verifyDelegation(bytes) : verifyInvocation(bytes)))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('sign then verify gives the same delegation, with any valid policy (numRuns 200)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(statement, { maxLength: 3 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        async (pol, exp) => {
          let signed: Delegation
          try {
            signed = await signDelegation(alice, { aud: bob.did, sub: alice.did, cmd: '/a/b', pol, exp })
          } catch (err) {
            assert.ok(err instanceof InvalidInputError, String(err))
            return
          }
          const verified = verifyDelegation(signed.bytes)
          assert.equal(verified.cid, signed.cid)
          assert.deepEqual(verified.payload.pol, JSON.parse(JSON.stringify(pol)))
        },
      ),
      { numRuns: 200 },
    )
  })

  it('a 5-link chain whose proofs come from a hostile store raises only DelegationError (numRuns 200)', async () => {
    const people = signers(6)
    const chain = await linearChain(people, { cmd: '/store', exp: NOW + 100 })
    const inv = await signInvocation(
      people[5]!,
      { sub: people[0]!.did, cmd: '/store', prf: chain.map((d) => d.cid) },
      { now: NOW },
    )
    const store = proofStore(chain)
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: 4 }), mutated(fc.constant(chain[2]!.bytes)), async (which, bad) => {
        const lookup = (cid: string) => (cid === chain[which]!.cid ? bad : store.lookup(cid))
        await onlyDelegationErrorsAsync(() => validateInvocation(inv.bytes, { now: NOW, proofs: lookup }))
      }),
      { numRuns: 200 },
    )
  })
})

describe('UCAN properties: policies', () => {
  it('parsing any value gives a policy or InvalidInputError; evaluating never throws (numRuns 1000)', () => {
    fc.assert(
      fc.property(fc.oneof(anyCborValue(), fc.array(statement, { maxLength: 3 })), argsValue, (value, args) => {
        let policy: ReturnType<typeof parsePolicy>
        try {
          policy = parsePolicy(value)
        } catch (err) {
          assert.ok(err instanceof InvalidInputError, String(err))
          return
        }
        evaluatePolicy(policy, args)
      }),
      { numRuns: 1000 },
    )
  })

  it('!= is not ==, and De Morgan holds (numRuns 1000)', () => {
    const holds = (p: unknown, args: unknown) => evaluatePolicy(parsePolicy([p]), args).ok
    fc.assert(
      fc.property(statement, statement, argsValue, selector, leafValue, (a, b, args, sel, v) => {
        assert.equal(holds(['!=', sel, v], args), holds(['not', ['==', sel, v]], args))
        assert.equal(
          holds(['not', ['and', [a, b]]], args),
          holds(
            [
              'or',
              [
                ['not', a],
                ['not', b],
              ],
            ],
            args,
          ),
        )
        assert.equal(
          holds(['not', ['or', [a, b]]], args),
          holds(
            [
              'and',
              [
                ['not', a],
                ['not', b],
              ],
            ],
            args,
          ),
        )
        // A policy and its negation never both hold (a missing value makes both fail).
        assert.ok(!(holds(a, args) && holds(['not', a], args)))
      }),
      { numRuns: 1000 },
    )
  })

  it('like agrees with an anchored regular expression (numRuns 2000)', () => {
    const alphabet = fc.constantFrom('a', 'b', '*', '\\*')
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 8 }), fc.stringMatching(/^[ab*]{0,10}$/), (tokens, text) => {
        const pattern = tokens.join('')
        const regex = new RegExp(`^${tokens.map((t) => (t === '*' ? '[\\s\\S]*' : t === '\\*' ? '\\*' : t)).join('')}$`)
        assert.equal(
          evaluatePolicy(parsePolicy([['like', '.', pattern]]), text).ok,
          regex.test(text),
          `${pattern} ~ ${text}`,
        )
      }),
      { numRuns: 2000 },
    )
  })

  it('commandCovers is segment-prefix order (numRuns 1000)', () => {
    const command = fc.array(fc.constantFrom('a', 'b', 'ab'), { maxLength: 4 }).map((s) => `/${s.join('/')}`)
    fc.assert(
      fc.property(command, command, (parent, child) => {
        const segments = (c: string) => (c === '/' ? [] : c.slice(1).split('/'))
        const [p, c] = [segments(parent), segments(child)]
        assert.equal(commandCovers(parent, child), p.length <= c.length && p.every((s, i) => s === c[i]))
      }),
      { numRuns: 1000 },
    )
  })
})
