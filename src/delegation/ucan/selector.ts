/**
 * Policy selectors (UCAN Delegation, "Selectors"): a jq-like path into an invocation's `args`.
 *
 * ```
 * selector = "." / 1*segment                 ; "." alone is the identity
 * segment  = ( "." field / ["."] "[" inner "]" ) *"?"
 * field    = (ALPHA / "_") *(ALPHA / DIGIT / "_")
 * inner    = json-string / int / [int] ":" [int] / ""     ; key, index, slice, values
 * ```
 *
 * Resolution, left to right, returns a value or fails (`UNRESOLVED`): a missing key of a map gives
 * `null` (as the spec says); a field of anything but a map, an index out of range or of anything
 * but a list or bytes fails. A segment marked `?` gives `null` for the whole selection instead of
 * failing; a failure before it still fails ("return early, even if a later segment is optional").
 * `[]` applies the rest of the path to each element of a list (each value of a map, each byte of
 * bytes) and gives the list of results, leaving out the elements where it fails.
 */
import { UCAN_SELECTOR_MAX_CHARS } from '../../core/constants.ts'
import { InvalidInputError } from '../../core/errors.ts'
import { isMap } from './fields.ts'

type SegmentBody =
  | { kind: 'field'; key: string }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; from: number | undefined; to: number | undefined }
  | { kind: 'values' }

/** One step of a selector; `optional` (a `?` after it) turns its failure into `null`. */
export type Segment = SegmentBody & { optional: boolean }

export interface Selector {
  text: string
  segments: Segment[]
}

/** What a selection gives when the path cannot be resolved. */
export const UNRESOLVED: unique symbol = Symbol('unresolved')

const FIELD = /^[A-Za-z_][A-Za-z0-9_]*/
const INDEX = /^-?(0|[1-9][0-9]{0,8})$/

export function parseSelector(text: unknown): Selector {
  if (typeof text !== 'string') throw new InvalidInputError('a selector is a string')
  if (text.length > UCAN_SELECTOR_MAX_CHARS) {
    throw new InvalidInputError(`selector longer than ${UCAN_SELECTOR_MAX_CHARS} characters`)
  }
  const bad = (why: string) => new InvalidInputError(`selector ${JSON.stringify(text)}: ${why}`)
  if (!text.startsWith('.')) throw bad('does not begin with a dot')
  if (text === '.') return { text, segments: [] }
  const segments: Segment[] = []
  let at = 0
  while (at < text.length) {
    let segment: SegmentBody
    if (text[at] === '.' && text[at + 1] !== '[') {
      const match = FIELD.exec(text.slice(at + 1))
      if (match === null) throw bad(`no field name after the dot at ${at}`)
      segment = { kind: 'field', key: match[0] }
      at += 1 + match[0].length
    } else {
      if (text[at] === '.') at++
      if (text[at] !== '[') throw bad(`unexpected ${JSON.stringify(text[at])} at ${at}`)
      const end = text[at + 1] === '"' ? closingQuote(text, at + 1) + 1 : text.indexOf(']', at)
      if (end < 0 || text[end] !== ']') throw bad(`no closing bracket after ${at}`)
      segment = bracket(text.slice(at + 1, end), bad)
      at = end + 1
    }
    let optional = false
    while (text[at] === '?') {
      optional = true
      at++
    }
    segments.push({ ...segment, optional })
  }
  return { text, segments }
}

function bracket(inner: string, bad: (why: string) => Error): SegmentBody {
  if (inner === '') return { kind: 'values' }
  if (inner.startsWith('"')) {
    let key: unknown
    try {
      key = JSON.parse(inner)
    } catch {
      throw bad(`bad key ${inner}`)
    }
    if (typeof key !== 'string') throw bad(`bad key ${inner}`)
    return { kind: 'field', key }
  }
  const colon = inner.indexOf(':')
  if (colon >= 0) {
    const [from, to] = [inner.slice(0, colon), inner.slice(colon + 1)]
    if ((from !== '' && !INDEX.test(from)) || (to !== '' && !INDEX.test(to))) throw bad(`bad slice [${inner}]`)
    return { kind: 'slice', from: from === '' ? undefined : Number(from), to: to === '' ? undefined : Number(to) }
  }
  if (!INDEX.test(inner)) throw bad(`bad index [${inner}]`)
  return { kind: 'index', index: Number(inner) }
}

/** Index of the quote that closes the JSON string opening at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++
    else if (text[i] === '"') return i
  }
  return -1
}

/** Resolve `selector` in `value`; `step` is called once per segment applied (work bound). */
export function select(selector: Selector, value: unknown, step: () => void): unknown {
  return resolve(selector.segments, 0, value, step)
}

function resolve(segments: Segment[], from: number, value: unknown, step: () => void): unknown {
  let current = value
  for (let i = from; i < segments.length; i++) {
    const segment = segments[i] as Segment
    step()
    if (segment.kind === 'values') {
      const children = valuesOf(current)
      if (children === undefined) return segment.optional ? null : UNRESOLVED
      const out: unknown[] = []
      for (const child of children) {
        const result = resolve(segments, i + 1, child, step)
        if (result !== UNRESOLVED) out.push(result)
      }
      return out
    }
    const next = apply(segment, current)
    if (next === UNRESOLVED) return segment.optional ? null : UNRESOLVED
    current = next
  }
  return current
}

function apply(segment: Exclude<SegmentBody, { kind: 'values' }>, value: unknown): unknown {
  if (segment.kind === 'field') {
    if (!isMap(value)) return UNRESOLVED
    return Object.hasOwn(value, segment.key) ? value[segment.key] : null
  }
  if (!Array.isArray(value) && !(value instanceof Uint8Array)) return UNRESOLVED
  const length = value.length
  if (segment.kind === 'index') {
    const index = segment.index < 0 ? length + segment.index : segment.index
    return index >= 0 && index < length ? value[index] : UNRESOLVED
  }
  const bound = (n: number | undefined, fallback: number) =>
    n === undefined ? fallback : Math.min(length, Math.max(0, n < 0 ? length + n : n))
  const start = bound(segment.from, 0)
  const end = Math.max(start, bound(segment.to, length))
  return value.slice(start, end)
}

function valuesOf(value: unknown): Iterable<unknown> | undefined {
  if (Array.isArray(value) || value instanceof Uint8Array) return value
  return isMap(value) ? Object.values(value) : undefined
}
