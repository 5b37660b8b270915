/**
 * Comparisons of IPLD values (what DAG-CBOR decodes to) for the policy language: deep equality
 * in which numbers compare by value whatever their kind (`1 == 1.0`, and a 64-bit integer that
 * DAG-CBOR decodes as a bigint equals the same number), and numeric order.
 */
import { CID } from 'multiformats/cid'
import { equalBytes } from '../../core/crypto.ts'
import { isMap } from './fields.ts'

export type IpldNumber = number | bigint

export function isNumber(value: unknown): value is IpldNumber {
  return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint'
}

/** -1, 0 or 1: `a` against `b`, exactly (a bigint is never rounded to a double). */
export function compareNumbers(a: IpldNumber, b: IpldNumber): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0
  // One bigint, one double: compare the bigint with the double's integer part, then the fraction.
  const big = typeof a === 'bigint' ? a : (b as bigint)
  const double = typeof a === 'bigint' ? (b as number) : a
  const whole = BigInt(Math.trunc(double))
  let order = big < whole ? -1 : big > whole ? 1 : 0
  if (order === 0) {
    const fraction = double - Math.trunc(double)
    order = fraction > 0 ? -1 : fraction < 0 ? 1 : 0
  }
  return typeof a === 'bigint' ? order : -order
}

/**
 * Deep equality of two IPLD values. `step` is called once per node compared, so the caller can
 * bound the work (a policy evaluation has a step budget).
 */
export function ipldEquals(a: unknown, b: unknown, step: () => void): boolean {
  step()
  if (isNumber(a) || isNumber(b)) return isNumber(a) && isNumber(b) && compareNumbers(a, b) === 0
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && equalBytes(a, b)
  }
  const cidA = CID.asCID(a)
  const cidB = CID.asCID(b)
  if (cidA !== null || cidB !== null) return cidA !== null && cidB !== null && cidA.equals(cidB)
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((item, i) => ipldEquals(item, b[i], step))
  }
  if (!isMap(a) || !isMap(b)) return false
  const keys = Object.keys(a)
  if (keys.length !== Object.keys(b).length) return false
  return keys.every((key) => Object.hasOwn(b, key) && ipldEquals(a[key], b[key], step))
}

/** A short rendering of a policy or value for error messages (bytes, CIDs and bigints included). */
export function render(value: unknown, max = 120): string {
  let text: string
  try {
    text = JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString()
      if (v instanceof Uint8Array) return `<${v.length} bytes>`
      const cid = CID.asCID(v)
      return cid === null ? v : cid.toString()
    })
  } catch {
    text = String(value)
  }
  return text.length <= max ? text : `${text.slice(0, max)}...`
}
