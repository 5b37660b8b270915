/**
 * The identity API's shapes (TypeBox): who this node's person is, their devices, pairing, and
 * contacts. The CLI and the dashboard take their types from here.
 */
import { type Static, Type } from '@sinclair/typebox'
import { contact, recoveryState as identityRecovery, pairing, recoverySession } from '../index.ts'

export const nameBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
)
export type NameBody = Static<typeof nameBody>

export const pairingStart = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'This device’s name' })),
  },
  { additionalProperties: false },
)
export type PairingStartBody = Static<typeof pairingStart>

export const pairingAddBody = Type.Object(
  { code: Type.String({ minLength: 8, maxLength: 2048, description: 'The code the new device shows' }) },
  { additionalProperties: false },
)
export type PairingAddBody = Static<typeof pairingAddBody>

export const pairingParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })
export type PairingParams = Static<typeof pairingParams>

export const confirmBody = Type.Object(
  {
    shortString: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'The string the other device shows (or "yes" when a person compared them)',
    }),
  },
  { additionalProperties: false },
)
export type ConfirmBody = Static<typeof confirmBody>

export const removeBody = Type.Object(
  { lost: Type.Optional(Type.Boolean({ description: 'The device was lost or stolen' })) },
  { additionalProperties: false },
)
export type RemoveBody = Static<typeof removeBody>

export const deviceParams = Type.Object({ device: Type.String({ minLength: 1, maxLength: 128 }) })
export type DeviceParams = Static<typeof deviceParams>

export const contactsReply = Type.Object({ contacts: Type.Array(contact) })
export type ContactsReply = Static<typeof contactsReply>

export const contactBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    identity: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
)
export type ContactBody = Static<typeof contactBody>

export const contactParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) })
export type ContactParams = Static<typeof contactParams>

export const guardiansBody = Type.Object(
  {
    guardians: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
      minItems: 1,
      maxItems: 8,
      description: 'Contact names or identity IDs',
    }),
    threshold: Type.Integer({ minimum: 1, maximum: 8, description: 'Approvals a recovery needs' }),
    delayMs: Type.Optional(
      Type.Integer({
        minimum: 1000,
        description: 'How long a recovery waits for a veto (default identity.recoveryDelayMs)',
      }),
    ),
  },
  { additionalProperties: false },
)
export type GuardiansBody = Static<typeof guardiansBody>

export const recoverStartBody = Type.Object(
  {
    identity: Type.String({ minLength: 1, maxLength: 128, description: 'The identity to recover (ID or contact)' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'This device’s name' })),
  },
  { additionalProperties: false },
)
export type RecoverStartBody = Static<typeof recoverStartBody>

export const recoverApproveBody = Type.Object(
  { code: Type.String({ minLength: 8, maxLength: 2048, description: 'The code the recovering device shows' }) },
  { additionalProperties: false },
)
export type RecoverApproveBody = Static<typeof recoverApproveBody>

export const recoveryParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })
export type RecoveryParams = Static<typeof recoveryParams>

export const recoveryReply = Type.Object({
  sessions: Type.Array(Type.Ref(recoverySession)),
  recovery: Type.Optional(Type.Ref(identityRecovery)),
})
export type RecoveryReply = Static<typeof recoveryReply>

export {
  type ContactProfile,
  type ContactView,
  contact,
  contactProfile,
  type DeviceView,
  device,
  type IdentityReply,
  identityReply,
  type PairingView,
  pairing,
  type RecoverySessionReply,
  recoverySession,
  removedDevice,
} from '../index.ts'

export const identitySchemas = [pairing, recoverySession, identityRecovery]
