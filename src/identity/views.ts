/**
 * What the identity service returns, as TypeBox schemas: the API replies with these shapes
 * (api/schemas.ts re-exports them) and the service builds them, so they are declared once.
 */
import { type Static, Type } from '@sinclair/typebox'
import { stringEnum } from '../core/settings.ts'

export const device = Type.Object({
  peerId: Type.String(),
  name: Type.String(),
  addedAt: Type.Number({ description: 'When the entry that added it was signed, ms since epoch' }),
  addedBy: Type.Optional(Type.String({ description: 'The device that added it (none for the first)' })),
  lastSeen: Type.Optional(Type.Number({ description: 'Last time this node was connected to it, ms since epoch' })),
  self: Type.Boolean({ description: 'This device' }),
})
export type DeviceView = Static<typeof device>

export const removedDevice = Type.Object({
  peerId: Type.String(),
  name: Type.String({ description: 'The name it had while it was a device of this identity' }),
  removedAt: Type.Number(),
  removedBy: Type.String(),
  lost: Type.Boolean(),
  reason: Type.Optional(Type.String({ description: 'Why, as the person who removed it wrote' })),
})

export const identityReply = Type.Object({
  id: Type.String({ description: 'The identity ID: the CID of its genesis entry' }),
  name: Type.Optional(Type.String({ description: 'Display name others see' })),
  devices: Type.Array(device),
  removed: Type.Array(removedDevice),
  heads: Type.Array(Type.String(), { description: 'CIDs of the log heads' }),
  entries: Type.Integer(),
  dataKeyEpoch: Type.Integer(),
})
export type IdentityReply = Static<typeof identityReply>

export const pairing = Type.Object(
  {
    id: Type.String(),
    role: stringEnum(['new-device', 'existing-device']),
    state: stringEnum(['waiting', 'compare', 'confirmed', 'done', 'aborted', 'expired']),
    code: Type.Optional(
      Type.String({ description: 'new-device: the code to type or scan on a device of the identity' }),
    ),
    expiresAt: Type.Optional(Type.Number()),
    shortString: Type.Optional(Type.String({ description: 'compare: the string both screens must show' })),
    peer: Type.Optional(Type.String({ description: 'The other device' })),
    identity: Type.Optional(Type.String({ description: 'done: the identity now shared' })),
    error: Type.Optional(Type.String({ description: 'aborted: why' })),
  },
  { $id: 'Pairing' },
)
export type PairingView = Static<typeof pairing>
