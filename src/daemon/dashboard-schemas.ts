/**
 * The dashboard sign-in's shapes (TypeBox): `lateral ui` asks for a one-time login path, the
 * page trades the code in it for the API token. Re-exported by `schemas.ts`, where the CLI and
 * the page take the types from.
 */
import { type Static, Type } from '@sinclair/typebox'

export const loginReply = Type.Object({
  path: Type.String({ description: 'Append to the API URL: the page trades the code for the token' }),
  expiresAt: Type.Number(),
})
export type LoginReply = Static<typeof loginReply>

export const sessionBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
)
export type SessionBody = Static<typeof sessionBody>

export const sessionReply = Type.Object({ token: Type.String(), peerId: Type.String() })
export type SessionReply = Static<typeof sessionReply>
