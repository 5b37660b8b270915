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

export const guardianSet = Type.Object({
  entry: Type.String({ description: 'CID of the setGuardians entry' }),
  guardians: Type.Array(
    Type.Object({
      identity: Type.String(),
      contact: Type.Optional(Type.String({ description: 'Its contact name here' })),
      devices: Type.Array(Type.String()),
    }),
  ),
  threshold: Type.Integer(),
  delay: Type.Integer({ description: 'ms a recovery waits for a veto, and a change of this set before it counts' }),
  effectiveAt: Type.Number({ description: 'In force from, ms since epoch' }),
  epoch: Type.Integer({ description: 'The data key epoch its shares rebuild (0: no backup)' }),
})
export type GuardianSetView = Static<typeof guardianSet>

export const recoveryState = Type.Object(
  {
    entry: Type.String({ description: 'CID of the recover entry' }),
    device: Type.String({ description: 'The recovering device' }),
    name: Type.String(),
    startedAt: Type.Number(),
    dueAt: Type.Number({ description: 'When it takes effect unless a current device vetoes it, ms since epoch' }),
    approvedBy: Type.Array(Type.String(), { description: 'Guardians whose approvals it carries' }),
    set: Type.String(),
    state: stringEnum(['pending', 'vetoed', 'completed']),
    vetoedBy: Type.Optional(Type.Object({ device: Type.String(), entry: Type.String() })),
    completedBy: Type.Optional(Type.String()),
  },
  { $id: 'IdentityRecovery' },
)

export const identityReply = Type.Object({
  id: Type.String({ description: 'The identity ID: the CID of its genesis entry' }),
  name: Type.Optional(Type.String({ description: 'Display name others see' })),
  devices: Type.Array(device),
  removed: Type.Array(removedDevice),
  heads: Type.Array(Type.String(), { description: 'CIDs of the log heads' }),
  entries: Type.Integer(),
  dataKeyEpoch: Type.Integer(),
  guardians: Type.Object({ current: Type.Optional(guardianSet), pending: Type.Optional(guardianSet) }),
  recovery: Type.Optional(Type.Ref(recoveryState)),
})
export type IdentityReply = Static<typeof identityReply>

export const recoverySession = Type.Object(
  {
    id: Type.String(),
    role: stringEnum(['recovering', 'guardian']),
    identity: Type.String(),
    device: Type.String({ description: 'The recovering device' }),
    code: Type.Optional(Type.String({ description: 'Recovering side: the code to give each guardian' })),
    shortString: Type.String({ description: 'What the person and each guardian compare' }),
    state: stringEnum(['waiting', 'compare', 'approved', 'pending', 'completed', 'vetoed', 'aborted', 'failed']),
    approvals: Type.Array(Type.String(), { description: 'Guardians whose approvals arrived' }),
    threshold: Type.Optional(Type.Integer()),
    dueAt: Type.Optional(Type.Number()),
    error: Type.Optional(Type.String()),
    refusedShares: Type.Optional(Type.Array(Type.Object({ from: Type.String(), reason: Type.String() }))),
  },
  { $id: 'RecoverySession' },
)
export type RecoverySessionReply = Static<typeof recoverySession>

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

export const contactProfile = Type.Object(
  {
    name: Type.Optional(Type.String({ description: 'The display name the person signed into their log' })),
    devices: Type.Array(Type.String(), { description: 'Peer IDs of their current devices' }),
    mailboxes: Type.Array(Type.String(), {
      description: 'Peer IDs that hold their direct messages while none of their devices is reachable',
    }),
    entries: Type.Integer({ description: 'Entries of their identity log this node holds (each verified)' }),
  },
  {
    description:
      'What this node knows of the person from their signed identity log; absent until the log has been fetched from one of their devices',
  },
)
export type ContactProfile = Static<typeof contactProfile>

export const contact = Type.Object({
  name: Type.String(),
  identity: Type.String(),
  addedAt: Type.Number(),
  profile: Type.Optional(contactProfile),
})
export type ContactView = Static<typeof contact>
