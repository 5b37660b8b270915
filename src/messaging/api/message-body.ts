/** A message body as a request gives it: `text`, or `base64` with an optional content type. */
import { InvalidInputError } from '../../core/errors.ts'
import type { MessageBody } from './schemas.ts'

/** The bytes and content type of a request body that has `text` or `base64`. */
export function readBody(input: MessageBody): { body: string | Uint8Array; type?: string } {
  if ((input.text === undefined) === (input.base64 === undefined)) {
    throw new InvalidInputError('give exactly one of "text" or "base64"')
  }
  const type = input.type === undefined ? {} : { type: input.type }
  if (input.text !== undefined) return { body: input.text, ...type }
  const base64 = input.base64 as string
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new InvalidInputError('"base64" is not base64')
  return { body: new Uint8Array(Buffer.from(base64, 'base64')), ...type }
}
