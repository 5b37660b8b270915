/** Field checks shared by the topic and direct-message schemas. Each throws InvalidInputError. */
import { MAX_CLOCK_SKEW_MS, MAX_CONTENT_TYPE_LENGTH } from '../core/constants.ts'
import { InvalidInputError } from '../core/errors.ts'

export function isContentType(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_CONTENT_TYPE_LENGTH &&
    /^[\x21-\x7e]+(?:; ?[\x21-\x7e]+)*$/.test(value)
  )
}

/** The fields every message has: `from`, `time` (not ahead of `now` by more than the skew), `type`, `body`. */
export function checkCommonFields(m: Record<string, unknown>, now = Date.now()): void {
  if (typeof m.from !== 'string' || m.from.length === 0 || m.from.length > 128)
    throw new InvalidInputError('bad "from"')
  if (typeof m.time !== 'number' || !Number.isSafeInteger(m.time) || m.time < 0)
    throw new InvalidInputError('bad "time"')
  if (m.time > now + MAX_CLOCK_SKEW_MS) throw new InvalidInputError('"time" is in the future')
  if (!isContentType(m.type)) throw new InvalidInputError('bad "type"')
  if (!(m.body instanceof Uint8Array)) throw new InvalidInputError('bad "body"')
}

/** Exactly these keys, no more, no fewer. */
export function checkKeys(m: Record<string, unknown>, sortedKeys: readonly string[], what: string): void {
  if (Object.keys(m).sort().join() !== sortedKeys.join())
    throw new InvalidInputError(`${what} has missing or extra fields`)
}
