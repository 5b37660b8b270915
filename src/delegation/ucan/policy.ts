/**
 * The UCAN policy language (UCAN Delegation, "Policy"): a list of statements, all of which must
 * hold for an invocation's `args`.
 *
 * ```
 * ["==", sel, value]  ["!=", sel, value]        deep equality; numbers by value (1 == 1.0)
 * ["<", sel, n] ["<=", ...] [">", ...] [">=", ...]  numeric order; false for a non-number
 * ["like", sel, "glob"]                         `*` matches any run, `\*` a star, `\\` a backslash
 * ["not", stmt]  ["and", [stmt...]]  ["or", [stmt...]]     and [] and or [] are true
 * ["all", sel, stmt]  ["any", sel, stmt]        over a list's elements or a map's values
 * ```
 *
 * Evaluation is three-valued: a statement whose selector cannot be resolved is *unresolved*, and
 * connectives follow Kleene's logic (`not` keeps it unresolved; `and` is false if any part is
 * false, else unresolved if any is; `or` is true if any part is true, else unresolved if any is;
 * `all`/`any` likewise over the elements, `any` of nothing being false). A policy holds only when
 * every statement is true, so a missing value never passes a policy through `not`
 * (`["not", ["==", ".a.b", 1]]` fails when `.a` is absent), while `?` selectors give `null`
 * instead and evaluate normally. Parsing refuses malformed statements with a reason and bounds the
 * depth and size; evaluation has a step budget.
 */
import { InvalidInputError } from '../../core/errors.ts'
import { isMap } from './fields.ts'
import { compareNumbers, type IpldNumber, ipldEquals, isNumber, render } from './ipld-value.ts'
import { DEFAULT_UCAN_LIMITS, type UcanLimits } from './limits.ts'
import { parseSelector, type Selector, select, UNRESOLVED } from './selector.ts'

type Order = '<' | '<=' | '>' | '>='

export type Statement =
  | { op: '==' | '!='; selector: Selector; value: unknown; raw: unknown }
  | { op: Order; selector: Selector; value: IpldNumber; raw: unknown }
  | { op: 'like'; selector: Selector; pattern: GlobPart[]; raw: unknown }
  | { op: 'not'; statement: Statement; raw: unknown }
  | { op: 'and' | 'or'; statements: Statement[]; raw: unknown }
  | { op: 'all' | 'any'; selector: Selector; statement: Statement; raw: unknown }

/** A glob as literal runs and wildcards. */
export type GlobPart = string | typeof STAR

const STAR: unique symbol = Symbol('*')

export interface Policy {
  statements: Statement[]
}

export type PolicyResult = { ok: true } | { ok: false; reason: string }

type Limits = Pick<UcanLimits, 'policyMaxDepth' | 'policyMaxStatements' | 'policyMaxSteps'>

/** Parse and check a policy; InvalidInputError says what is malformed. */
export function parsePolicy(value: unknown, limits: Limits = DEFAULT_UCAN_LIMITS): Policy {
  if (!Array.isArray(value)) throw new InvalidInputError('pol is not a list of statements')
  const count = { n: 0 }
  return { statements: value.map((s) => parseStatement(s, 1, count, limits)) }
}

function parseStatement(raw: unknown, depth: number, count: { n: number }, limits: Limits): Statement {
  if (depth > limits.policyMaxDepth) throw new InvalidInputError(`policy nested deeper than ${limits.policyMaxDepth}`)
  if (++count.n > limits.policyMaxStatements) {
    throw new InvalidInputError(`policy holds more than ${limits.policyMaxStatements} statements`)
  }
  const bad = (why: string) => new InvalidInputError(`policy statement ${render(raw)}: ${why}`)
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') throw bad('not a list beginning with an operator')
  const op = raw[0]
  const arity = (n: number) => {
    if (raw.length !== n) throw bad(`${op} takes ${n - 1} argument${n === 2 ? '' : 's'}`)
  }
  const inner = (s: unknown) => parseStatement(s, depth + 1, count, limits)
  switch (op) {
    case '==':
    case '!=':
      arity(3)
      return { op, selector: parseSelector(raw[1]), value: raw[2], raw }
    case '<':
    case '<=':
    case '>':
    case '>=':
      arity(3)
      if (!isNumber(raw[2])) throw bad(`${op} compares with a number`)
      return { op, selector: parseSelector(raw[1]), value: raw[2], raw }
    case 'like':
      arity(3)
      return { op, selector: parseSelector(raw[1]), pattern: parseGlob(raw[2], bad), raw }
    case 'not':
      arity(2)
      return { op, statement: inner(raw[1]), raw }
    case 'and':
    case 'or':
      arity(2)
      if (!Array.isArray(raw[1])) throw bad(`${op} takes a list of statements`)
      return { op, statements: raw[1].map(inner), raw }
    case 'all':
    case 'any':
      arity(3)
      return { op, selector: parseSelector(raw[1]), statement: inner(raw[2]), raw }
    default:
      throw bad(`unknown operator ${JSON.stringify(op.slice(0, 20))}`)
  }
}

function parseGlob(value: unknown, bad: (why: string) => Error): GlobPart[] {
  if (typeof value !== 'string') throw bad('like takes a string pattern')
  const parts: GlobPart[] = []
  let literal = ''
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string
    if (c === '\\') {
      const next = value[++i]
      if (next !== '*' && next !== '\\') throw bad('a backslash escapes only * or \\')
      literal += next
    } else if (c === '*') {
      if (literal !== '') parts.push(literal)
      literal = ''
      if (parts.at(-1) !== STAR) parts.push(STAR)
    } else {
      literal += c
    }
  }
  if (literal !== '') parts.push(literal)
  return parts
}

/**
 * Whether `text` matches the glob: the literal before the first wildcard must begin the text, the
 * one after the last must end it, and those between are found leftmost in order (which is optimal
 * for `*`-only globs), so matching is linear and never backtracks.
 */
export function globMatch(parts: readonly GlobPart[], text: string): boolean {
  const literals = parts.filter((part): part is string => part !== STAR)
  if (literals.length === parts.length) return text === (literals[0] ?? '')
  let lo = 0
  let hi = text.length
  let first = 0
  let last = literals.length
  if (parts[0] !== STAR) {
    const prefix = literals[first++] as string
    if (!text.startsWith(prefix)) return false
    lo = prefix.length
  }
  if (parts.at(-1) !== STAR) {
    const suffix = literals[--last] as string
    if (hi - lo < suffix.length || !text.endsWith(suffix)) return false
    hi -= suffix.length
  }
  for (let i = first; i < last; i++) {
    const literal = literals[i] as string
    const found = text.indexOf(literal, lo)
    if (found < 0 || found + literal.length > hi) return false
    lo = found + literal.length
  }
  return true
}

type Truth = boolean | 'unresolved'

/** Evaluate a parsed policy against `args`: ok, or the first statement that is not true. */
export function evaluatePolicy(policy: Policy, args: unknown, limits: Limits = DEFAULT_UCAN_LIMITS): PolicyResult {
  let steps = 0
  const step = () => {
    if (++steps > limits.policyMaxSteps) throw new BudgetExceeded()
  }
  try {
    for (const statement of policy.statements) {
      const truth = evaluate(statement, args, step)
      if (truth !== true) {
        const why = truth === false ? 'is false' : 'selects a value the arguments do not have'
        return { ok: false, reason: `${render(statement.raw)} ${why}` }
      }
    }
    return { ok: true }
  } catch (err) {
    if (err instanceof BudgetExceeded) {
      return { ok: false, reason: `evaluation took more than ${limits.policyMaxSteps} steps` }
    }
    throw err
  }
}

class BudgetExceeded extends Error {}

function evaluate(statement: Statement, value: unknown, step: () => void): Truth {
  step()
  switch (statement.op) {
    case 'not': {
      const truth = evaluate(statement.statement, value, step)
      return truth === 'unresolved' ? truth : !truth
    }
    case 'and':
      return all(statement.statements.map((s) => () => evaluate(s, value, step)))
    case 'or':
      return some(statement.statements.map((s) => () => evaluate(s, value, step)))
    default:
      break
  }
  const selected = select(statement.selector, value, step)
  if (selected === UNRESOLVED) return 'unresolved'
  switch (statement.op) {
    case '==':
      return ipldEquals(selected, statement.value, step)
    case '!=':
      return !ipldEquals(selected, statement.value, step)
    case 'like':
      return typeof selected === 'string' && globMatch(statement.pattern, selected)
    case 'all':
    case 'any': {
      const items = Array.isArray(selected) ? selected : isMap(selected) ? Object.values(selected) : undefined
      if (items === undefined) return false
      const parts = items.map((item) => () => evaluate(statement.statement, item, step))
      // `or []` is true (the spec says so); `any` of nothing is false: no element satisfies it.
      return statement.op === 'all' ? all(parts) : items.length > 0 && some(parts)
    }
    default:
      return isNumber(selected) && ordered(statement.op, compareNumbers(selected, statement.value))
  }
}

function ordered(op: Order, order: number): boolean {
  return op === '<' ? order < 0 : op === '<=' ? order <= 0 : op === '>' ? order > 0 : order >= 0
}

/** Kleene conjunction: false wins, then unresolved; evaluation stops at the first false. */
function all(parts: Array<() => Truth>): Truth {
  let unresolved = false
  for (const part of parts) {
    const truth = part()
    if (truth === false) return false
    if (truth === 'unresolved') unresolved = true
  }
  return unresolved ? 'unresolved' : true
}

/** Kleene disjunction: true wins, then unresolved. An empty `or` is true (the spec says so). */
function some(parts: Array<() => Truth>): Truth {
  if (parts.length === 0) return true
  let unresolved = false
  for (const part of parts) {
    const truth = part()
    if (truth === true) return true
    if (truth === 'unresolved') unresolved = true
  }
  return unresolved ? 'unresolved' : false
}
