/**
 * The published UCAN 1.0.0 test vectors (shared/fixtures/ucan-1.0.0, from ucan-wg/spec): every
 * valid delegation and invocation verifies, every invalid invocation is refused with the error
 * name it gives (as `DelegationError.code`), every policy case holds or fails as published. The
 * one policy case that is not valid JSON upstream is repaired in memory (see repairPolicyJson).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { DelegationError } from '../src/core/errors.ts'
import { recordCid } from '../src/core/signed-record.ts'
import {
  evaluatePolicy,
  parsePolicy,
  validateInvocation,
  verifyDelegation,
  verifyInvocation,
} from '../src/delegation/ucan/index.ts'
import { REPO_ROOT } from '../src/testing/testnet.ts'

const FIXTURES = join(REPO_ROOT, '..', 'shared', 'fixtures', 'ucan-1.0.0')
const read = (name: string) => readFileSync(join(FIXTURES, name), 'utf8')
const bytesOf = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'))

interface DagJsonBytes {
  '/': { bytes: string }
}
interface InvocationCase {
  name: string
  description: string
  invocation: DagJsonBytes
  proofs: DagJsonBytes[]
  time: number
  error?: { name: string }
}

/**
 * policy.json as published has, in its fifth valid case, `"newsletters": { { "christmas": ... } }`:
 * an object inside an object without a key. The case's policy (`all` over `.newsletters`, then
 * `any` over each value's `.recipients`) holds only if `newsletters` is `{ "christmas": ... }`,
 * so the inner braces are removed, and nothing else is touched.
 */
export function repairPolicyJson(text: string): string {
  const outer = text.indexOf('{', text.indexOf('"newsletters"'))
  const inner = text.slice(outer + 1).search(/\S/) + outer + 1
  assert.equal(text[inner], '{', 'the published defect is where the README says')
  let depth = 0
  let close = -1
  for (let i = inner; i < text.length && close < 0; i++) {
    if (text[i] === '{') depth++
    else if (text[i] === '}' && --depth === 0) close = i
  }
  return text.slice(0, inner) + text.slice(inner + 1, close) + text.slice(close + 1)
}

describe('UCAN 1.0.0 fixtures: delegation.json', () => {
  const fixture = JSON.parse(read('delegation.json'))
  for (const c of fixture.valid) {
    it(`valid: ${c.name}`, () => {
      const delegation = verifyDelegation(bytesOf(c.token))
      assert.equal(delegation.cid, c.cid)
      const expected = { ...c.envelope.payload, nonce: bytesOf(c.envelope.payload.nonce) }
      assert.deepEqual({ ...delegation.payload, nonce: new Uint8Array(delegation.payload.nonce) }, expected)
    })
  }
  it('has no invalid case (the fixture publishes none)', () => assert.equal(fixture.invalid, undefined))
})

describe('UCAN 1.0.0 fixtures: invocation.json (validated at the fixture time)', () => {
  const fixture = JSON.parse(read('invocation.json'))
  const options = (c: InvocationCase) => {
    const proofs = new Map(
      c.proofs.map((p) => {
        const bytes = bytesOf(p['/'].bytes)
        return [recordCid(bytes).toString(), bytes] as const
      }),
    )
    // The fixtures' invocations never expire (exp: null), which Lateral's own limit refuses.
    return { now: c.time, proofs: (cid: string) => proofs.get(cid), maxTtlSeconds: null }
  }
  for (const c of fixture.valid as InvocationCase[]) {
    it(`valid: ${c.name} (${c.description})`, async () => {
      const bytes = bytesOf(c.invocation['/'].bytes)
      const result = await validateInvocation(bytes, options(c))
      assert.equal(result.invocation.cid, verifyInvocation(bytes).cid)
      assert.equal(result.chain.length, c.proofs.length)
    })
  }
  for (const c of fixture.invalid as InvocationCase[]) {
    it(`invalid: ${c.name} (${c.description}) -> ${c.error?.name}`, async () => {
      const bytes = bytesOf(c.invocation['/'].bytes)
      await assert.rejects(validateInvocation(bytes, options(c)), (err: unknown) => {
        assert.ok(err instanceof DelegationError, String(err))
        assert.equal(err.code, c.error?.name, err.message)
        return true
      })
    })
  }
})

describe('UCAN 1.0.0 fixtures: policy.json (one case repaired in memory)', () => {
  it('the published file is not JSON, and the repair changes only the defect', () => {
    assert.throws(() => JSON.parse(read('policy.json')), SyntaxError)
    const repaired = repairPolicyJson(read('policy.json'))
    assert.equal(read('policy.json').replace(/\s/g, '').length - repaired.replace(/\s/g, '').length, 2)
  })
  const fixture = JSON.parse(repairPolicyJson(read('policy.json')))
  for (const [kind, holds] of [
    ['valid', true],
    ['invalid', false],
  ] as const) {
    fixture[kind].forEach((c: { args: unknown; policies: unknown[] }, i: number) => {
      c.policies.forEach((policy, j) => {
        it(`${kind} case ${i}, policy ${j}: ${JSON.stringify(policy).slice(0, 90)}`, () => {
          const result = evaluatePolicy(parsePolicy(policy), c.args)
          assert.equal(result.ok, holds, result.ok ? 'holds' : result.reason)
        })
      })
    })
  }
})
