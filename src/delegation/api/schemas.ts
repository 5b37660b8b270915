/**
 * The delegation API's shapes (TypeBox): grants given and received, revocations. The CLI and the
 * dashboard take their types from here.
 */
import { type Static, Type } from '@sinclair/typebox'
import { stringEnum } from '../../core/settings.ts'
import { delegationView } from '../index.ts'

export { type DelegationView, delegationView } from '../index.ts'

export const grantBody = Type.Object(
  {
    to: Type.String({
      minLength: 1,
      maxLength: 256,
      description: 'A peer ID, a contact name or an identity ID (then each of its current devices)',
    }),
    can: Type.String({ minLength: 1, maxLength: 256, description: 'The command, e.g. store/put or msg/deposit' }),
    quota: Type.Optional(Type.Integer({ minimum: 0, description: 'Bytes at most' })),
    until: Type.Number({ description: 'Valid until, ms since epoch' }),
    notBefore: Type.Optional(Type.Number({ description: 'Valid from, ms since epoch (default: now)' })),
    subject: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'Pass on a grant held from this identity (ID or contact), instead of granting for this node’s own',
      }),
    ),
  },
  { additionalProperties: false },
)
export type GrantBody = Static<typeof grantBody>

export const grantReply = Type.Object({ delegations: Type.Array(Type.Ref(delegationView)) })
export type GrantReply = Static<typeof grantReply>

export const listQuery = Type.Object({
  direction: Type.Optional(stringEnum(['given', 'received'])),
})
export type ListQuery = Static<typeof listQuery>

export const delegationParams = Type.Object({ cid: Type.String({ minLength: 1, maxLength: 128 }) })
export type DelegationParams = Static<typeof delegationParams>

export const delegationSchemas = [delegationView]
