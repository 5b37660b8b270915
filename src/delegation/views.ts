/** What the delegation service answers (TypeBox): the API's schemas, the CLI's and dashboard's types. */
import { type Static, Type } from '@sinclair/typebox'
import { stringEnum } from '../core/settings.ts'

export const delegationState = stringEnum(['active', 'pending', 'expired', 'revoked', 'invalid'], {
  description:
    'active: valid now; pending: not valid yet (nbf); expired; revoked (a revocation, or its issuer device was removed); invalid: its chain fails (reason)',
})

export const delegationView = Type.Object(
  {
    cid: Type.String({ description: 'The delegation’s CID: its ID' }),
    direction: stringEnum(['given', 'received']),
    issuer: Type.String({ description: 'Peer ID of the device that signed it' }),
    audience: Type.String({ description: 'Peer ID of the peer it was given to' }),
    subject: Type.String({ description: 'The identity whose right it is' }),
    command: Type.String({ description: 'What it allows, e.g. /store/put (and every command under it)' }),
    quota: Type.Optional(Type.Integer({ description: 'Bytes at most (the smallest quota along its chain)' })),
    used: Type.Optional(
      Type.Integer({
        description:
          'Bytes in use under it: received, what this node keeps for the subject; given, what the holder keeps for this node',
      }),
    ),
    notBefore: Type.Optional(Type.Number({ description: 'Valid from, ms since epoch' })),
    expiresAt: Type.Number({ description: 'Valid until, ms since epoch (the earliest expiry along its chain)' }),
    state: delegationState,
    reason: Type.Optional(Type.String({ description: 'Why it is not active' })),
    delivered: Type.Optional(Type.Boolean({ description: 'Given: whether the audience acknowledged it' })),
    chain: Type.Array(Type.String(), { description: 'CIDs of its chain, root first (it is the last)' }),
    at: Type.Number({ description: 'When this node issued or received it, ms since epoch' }),
  },
  { $id: 'Delegation' },
)
export type DelegationView = Static<typeof delegationView>
