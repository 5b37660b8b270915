/**
 * The UCAN policy language (src/delegation/ucan/policy.ts, selector.ts): selectors, operators,
 * the spec's semantics for missing and optional values, number equality across kinds, malformed
 * policies refused with a reason, and the bounds on depth, size and evaluation steps.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { InvalidInputError } from '../src/core/errors.ts'
import { recordCid } from '../src/core/signed-record.ts'
import { evaluatePolicy, parsePolicy } from '../src/delegation/ucan/index.ts'
import { parseSelector, select, UNRESOLVED } from '../src/delegation/ucan/selector.ts'

const holds = (policy: unknown, args: unknown) => evaluatePolicy(parsePolicy(policy), args).ok
const pick = (selector: string, value: unknown) => select(parseSelector(selector), value, () => {})

const args = {
  from: 'alice@example.com',
  to: ['bob@example.com', 'carol@not.example.com', 'dan@example.com'],
  cc: ['fraud@example.com'],
  title: 'Meeting Confirmation',
  nested: { 'a.b': 1, '': 2, list: [{ x: 1 }, { y: 2 }] },
  bytes: Uint8Array.of(0xd6, 0xa9, 0xc1, 0x8c),
}

describe('UCAN policy: selectors', () => {
  it('resolve as the spec’s table says', () => {
    assert.deepEqual(pick('.', args), args)
    assert.equal(pick('.title', args), 'Meeting Confirmation')
    assert.equal(pick('.to[1]', args), 'carol@not.example.com')
    assert.equal(pick('.to[-1]', args), 'dan@example.com')
    assert.equal(pick('.to[99]?', args), null)
    assert.equal(pick('.to[99]', args), UNRESOLVED)
    assert.equal(pick('.nested["a.b"]', args), 1)
    assert.equal(pick('.nested.["a.b"]', args), 1)
    assert.equal(pick('.nested[""]', args), 2)
    assert.equal(pick('.["from"]', args), 'alice@example.com')
    assert.deepEqual(pick('.to[1:]', args), ['carol@not.example.com', 'dan@example.com'])
    assert.deepEqual(pick('.to[:-2]', args), ['bob@example.com'])
    assert.deepEqual(pick('.to[5:9]', args), [])
    assert.equal(pick('.bytes[3]', args), 0x8c, 'bytes are selected into as a list of bytes')
  })

  it('missing keys give null; a path through a missing or wrong-kind value fails unless optional', () => {
    assert.equal(pick('.nope', args), null)
    assert.equal(pick('.nope.deeper', args), UNRESOLVED)
    assert.equal(pick('.nope.deeper?', args), null)
    assert.equal(pick('.title.length', args), UNRESOLVED, 'a field of a string')
    assert.equal(pick('.title[0]', args), UNRESOLVED, 'an index of a string')
    assert.equal(pick('.to.first', args), UNRESOLVED, 'a field of a list')
    assert.equal(pick('.title.x?.y', args), null, 'the optional segment ends the selection with null')
    assert.equal(pick('.title.x.y?', args), UNRESOLVED, 'an earlier failure is not saved by a later ?')
    assert.equal(pick('.to[9]???', args), null, 'repeated ? is one ?')
  })

  it('[] gives each element’s (or map value’s) selection, leaving out those that fail', () => {
    assert.deepEqual(pick('.to[]', args), args.to)
    assert.deepEqual(pick('.nested.list[].x', args), [1, null])
    assert.deepEqual(pick('.nested.list[].x.z', args), [])
    assert.deepEqual(pick('.nested[]', args), [1, 2, args.nested.list])
    assert.equal(pick('.title[]', args), UNRESOLVED)
    assert.equal(pick('.title[]?', args), null)
  })

  it('malformed selectors are refused with a reason', () => {
    for (const bad of [
      '',
      'a',
      '..',
      '.a..b',
      '.a.',
      '.[',
      '.a[',
      '.[x]',
      '.["a]',
      '.[1.5]',
      '.[01]',
      '.a b',
      '.-a',
      42,
    ]) {
      assert.throws(() => parseSelector(bad), InvalidInputError, JSON.stringify(bad))
    }
    assert.throws(() => parseSelector(`.${'a'.repeat(300)}`), /longer than/)
  })
})

describe('UCAN policy: operators', () => {
  it('== is a deep comparison; numbers compare by value across kinds (1 == 1.0, bigints)', () => {
    assert.ok(holds([['==', '.a', [1, 2, { b: 3 }]]], { a: [1, 2, { b: 3 }] }))
    assert.ok(!holds([['==', '.a', [1, 2, { b: 3 }]]], { a: [1, 2, { b: 3, c: 4 }] }))
    assert.ok(holds([['==', '.b', 1.0]], { b: 1 }))
    assert.ok(holds([['==', '.b', 2n ** 60n]], { b: 2n ** 60n }))
    assert.ok(holds([['==', '.b', 2 ** 60]], { b: 2n ** 60n }), 'a bigint equals the same double')
    assert.ok(!holds([['==', '.b', 2 ** 60 + 0.5 - 0.5 + 256]], { b: 2n ** 60n }))
    assert.ok(holds([['==', '.b', Uint8Array.of(1, 2)]], { b: Uint8Array.of(1, 2) }))
    const cid = recordCid(Uint8Array.of(1))
    assert.ok(holds([['==', '.c', cid]], { c: CID.parse(cid.toString()) }))
    assert.ok(!holds([['==', '.b', '1']], { b: 1 }), 'no coercion')
    assert.ok(holds([['!=', '.b', null]], { b: 1 }))
    assert.ok(holds([['==', '.missing', null]], { b: 1 }), 'a missing key is null')
  })

  it('<, <=, >, >= compare numbers only, and are false for anything else', () => {
    assert.ok(
      holds(
        [
          ['<', '.n', 2],
          ['<=', '.n', 1.5],
          ['>', '.n', 1],
          ['>=', '.n', 1.5],
        ],
        { n: 1.5 },
      ),
    )
    assert.ok(holds([['>', '.n', 2 ** 53]], { n: 2n ** 60n }))
    assert.ok(holds([['<', '.n', 2n ** 60n]], { n: 2 ** 53 }))
    for (const n of ['1', null, [1], { n: 1 }, true]) assert.ok(!holds([['<', '.n', 5]], { n }), JSON.stringify(n))
    assert.ok(holds([['not', ['<', '.n', 5]]], { n: '1' }), 'false, not unresolved: its negation holds')
  })

  it('like: * matches any run, \\* a star, \\\\ a backslash; only strings match', () => {
    const like = (pattern: string, text: unknown) => holds([['like', '.', pattern]], text)
    assert.ok(like('*@example.com', 'bob@example.com'))
    assert.ok(!like('*@example.com', 'bob@example.com.evil'))
    assert.ok(like('a*b*c', 'abc') && like('a*b*c', 'a-b-b-c') && !like('a*b*c', 'ab'))
    assert.ok(like('ab*ab', 'abab') && !like('ab*ab', 'aba'), 'prefix and suffix may not overlap')
    assert.ok(like('*', '') && like('', '') && !like('', 'x'))
    assert.ok(like('a\\*b', 'a*b') && !like('a\\*b', 'axb'))
    assert.ok(like('a\\\\b', 'a\\b'))
    assert.ok(!like('*', 1) && !like('*', null) && !like('*', ['x']))
    assert.throws(() => parsePolicy([['like', '.', 'a\\b']]), /escapes only/)
  })

  it('and, or, not; and [] and or [] are true; all and any over lists and map values', () => {
    const katie = { name: 'Katie', age: 35, nationalities: ['Canadian', 'South African'], pets: { a: 'cat', b: 'dog' } }
    assert.ok(holds([['and', []]], katie) && holds([['or', []]], katie))
    assert.ok(
      holds(
        [
          [
            'or',
            [
              ['==', '.name', 'Bob'],
              ['>', '.age', 30],
            ],
          ],
        ],
        katie,
      ),
    )
    assert.ok(
      !holds(
        [
          [
            'and',
            [
              ['==', '.name', 'Katie'],
              ['>', '.age', 40],
            ],
          ],
        ],
        katie,
      ),
    )
    assert.ok(holds([['all', '.pets', ['like', '.', '*']]], katie), 'over a map’s values')
    assert.ok(holds([['any', '.pets', ['==', '.', 'dog']]], katie))
    assert.ok(!holds([['any', '.none', ['==', '.', 1]]], { none: [] }), 'any of nothing is false')
    assert.ok(holds([['all', '.none', ['==', '.', 1]]], { none: [] }), 'all of nothing is true')
    assert.ok(!holds([['all', '.name', ['==', '.', 1]]], katie), 'a non-collection: false')
  })

  it('a value the arguments do not have fails the policy, even under not', () => {
    const a = { a: { b: 1 } }
    assert.ok(!holds([['==', '.x.y', 1]], a))
    assert.ok(!holds([['not', ['==', '.x.y', 1]]], a), 'not cannot turn a missing value into permission')
    assert.ok(!holds([['!=', '.x.y', 1]], a))
    assert.ok(
      holds(
        [
          [
            'or',
            [
              ['==', '.x.y', 1],
              ['==', '.a.b', 1],
            ],
          ],
        ],
        a,
      ),
      'a true part of an or decides',
    )
    assert.ok(
      !holds(
        [
          [
            'and',
            [
              ['==', '.x.y', 1],
              ['==', '.a.b', 2],
            ],
          ],
        ],
        a,
      ),
    )
    assert.ok(
      holds(
        [
          [
            'not',
            [
              'and',
              [
                ['==', '.x.y', 1],
                ['==', '.a.b', 2],
              ],
            ],
          ],
        ],
        a,
      ),
      'a false part of an and decides',
    )
    assert.ok(holds([['not', ['==', '.x.y?', 1]]], a), 'an optional selector gives null, which is not 1')
    assert.ok(!holds([['any', '.a', ['==', '.b.c', 1]]], a))
  })
})

describe('UCAN policy: malformed policies and bounds', () => {
  it('refuses malformed statements, naming the problem', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /not a list/],
      [[['==', '.a']], /takes 2 arguments/],
      [[['==', '.a', 1, 2]], /takes 2 arguments/],
      [[['<', '.a', '1']], /compares with a number/],
      [[['like', '.a', 1]], /string pattern/],
      [[['not', ['==', '.a', 1], ['==', '.b', 1]]], /takes 1 argument/],
      [[['and', ['==', '.a', 1]]], /not a list beginning with an operator/],
      [[['or', 'x']], /list of statements/],
      [[['all', '.a', []]], /not a list beginning/],
      [[['match', '.a', 'x']], /unknown operator/],
      [[['==', 'a', 1]], /does not begin with a dot/],
      [[[1, '.a', 1]], /not a list beginning with an operator/],
    ]
    for (const [policy, reason] of cases) {
      assert.throws(
        () => parsePolicy(policy),
        (err) => err instanceof InvalidInputError && reason.test(err.message),
        JSON.stringify(policy),
      )
    }
  })

  it('bounds depth and size when parsing, and steps when evaluating', () => {
    let deep: unknown = ['==', '.', 1]
    for (let i = 0; i < 16; i++) deep = ['not', deep]
    assert.throws(() => parsePolicy([deep]), /deeper than 16/)
    parsePolicy([deep], { policyMaxDepth: 17, policyMaxStatements: 256, policyMaxSteps: 100 })
    const wide = [['and', Array.from({ length: 300 }, () => ['==', '.', 1])]]
    assert.throws(() => parsePolicy(wide), /more than 256 statements/)
    const many = { list: Array.from({ length: 2000 }, (_, i) => ({ i })) }
    const policy = parsePolicy([['all', '.list', ['>=', '.i', 0]]])
    assert.ok(evaluatePolicy(policy, many).ok)
    const limited = evaluatePolicy(policy, many, { policyMaxDepth: 16, policyMaxStatements: 256, policyMaxSteps: 1000 })
    assert.deepEqual(limited, { ok: false, reason: 'evaluation took more than 1000 steps' })
  })
})
