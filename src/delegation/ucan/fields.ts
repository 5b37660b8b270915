/**
 * Shape checks shared by the UCAN payloads: exact key sets, integers within 53 bits, nonces,
 * commands, CID links, maps. Each throws InvalidInputError naming the field, which the token
 * decoders turn into a `Malformed` DelegationError.
 */
import { CID } from 'multiformats/cid'
import { UCAN_COMMAND_MAX_CHARS, UCAN_NONCE_MAX_BYTES } from '../../core/constants.ts'
import { InvalidInputError } from '../../core/errors.ts'
import { clip } from './did.ts'

const DAG_CBOR = 0x71
const SHA2_256 = 0x12

/** A map as DAG-CBOR decodes one: a plain object, not a list, bytes or a CID. */
export function isMap(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Uint8Array) &&
    CID.asCID(value) === null
  )
}

/** `value` is a map with every required key, and no key that is neither required nor optional. */
export function checkKeys(
  value: unknown,
  what: string,
  required: readonly string[],
  optional: readonly string[],
): Record<string, unknown> {
  if (!isMap(value)) throw new InvalidInputError(`${what} is not a map`)
  for (const key of required) {
    if (!Object.hasOwn(value, key)) throw new InvalidInputError(`${what} has no ${key}`)
  }
  for (const key of Object.keys(value)) {
    if (!required.includes(key) && !optional.includes(key)) {
      throw new InvalidInputError(`${what} has an unknown field ${JSON.stringify(clip(key, 40))}`)
    }
  }
  return value
}

/** A timestamp: integer seconds within ±(2^53 - 1), as UCAN requires; `null` where allowed. */
export function checkTime(value: unknown, field: string, nullable: true): number | null
export function checkTime(value: unknown, field: string, nullable: false): number
export function checkTime(value: unknown, field: string, nullable: boolean): number | null {
  if (value === null && nullable) return null
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new InvalidInputError(`${field} is not an integer number of seconds within 53 bits`)
  }
  return value
}

export function checkNonce(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidInputError('nonce is not bytes')
  if (value.length > UCAN_NONCE_MAX_BYTES) {
    throw new InvalidInputError(`nonce of ${value.length} bytes exceeds ${UCAN_NONCE_MAX_BYTES}`)
  }
  return value
}

/**
 * A command (UCAN "Segment Structure"): begins with `/`, lowercase, segments separated by one
 * `/`, no trailing slash except `/` itself (the top command, which proves every other).
 */
export function checkCommand(value: unknown, field = 'cmd'): string {
  if (typeof value !== 'string') throw new InvalidInputError(`${field} is not a string`)
  if (value.length === 0 || value.length > UCAN_COMMAND_MAX_CHARS) {
    throw new InvalidInputError(`${field} is empty or longer than ${UCAN_COMMAND_MAX_CHARS} characters`)
  }
  if (!value.startsWith('/')) throw new InvalidInputError(`${field} ${clip(value)} does not begin with /`)
  if (value !== value.toLowerCase()) throw new InvalidInputError(`${field} ${clip(value)} is not lowercase`)
  if (
    value !== '/' &&
    value
      .split('/')
      .slice(1)
      .some((segment) => segment.length === 0)
  ) {
    throw new InvalidInputError(`${field} ${clip(value)} has an empty segment or a trailing slash`)
  }
  return value
}

/** Whether holding `parent` proves `child`: `/` proves all, `/a` proves `/a` and `/a/b`, never `/ab`. */
export function commandCovers(parent: string, child: string): boolean {
  return parent === '/' || child === parent || child.startsWith(`${parent}/`)
}

/** A link to a UCAN envelope: CIDv1, DAG-CBOR, SHA-256 (the only IDs signed records have). */
export function checkLink(value: unknown, field: string): CID {
  const cid = CID.asCID(value)
  if (cid === null) throw new InvalidInputError(`${field} is not a CID`)
  if (cid.version !== 1 || cid.code !== DAG_CBOR || cid.multihash.code !== SHA2_256) {
    throw new InvalidInputError(`${field} is not a CIDv1 of DAG-CBOR with SHA-256`)
  }
  return cid
}

/** A list of links, at most `max`, none twice. */
export function checkLinks(value: unknown, field: string, max: number): CID[] {
  if (!Array.isArray(value)) throw new InvalidInputError(`${field} is not a list`)
  if (value.length > max) throw new InvalidInputError(`${field} holds ${value.length} links, more than ${max}`)
  const links = value.map((item, i) => checkLink(item, `${field}[${i}]`))
  const seen = new Set<string>()
  for (const link of links) {
    const text = link.toString()
    if (seen.has(text)) throw new InvalidInputError(`${field} names ${text} twice`)
    seen.add(text)
  }
  return links
}

/** `meta` and `args`: maps with string keys (DAG-CBOR keys are always strings). */
export function checkMap(value: unknown, field: string): Record<string, unknown> {
  if (!isMap(value)) throw new InvalidInputError(`${field} is not a map`)
  return value
}

/** A copy of `fields` without the undefined ones (DAG-CBOR has no undefined). */
export function defined<T extends Record<string, unknown>>(fields: T): T {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value
  return out as T
}
