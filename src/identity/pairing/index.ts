/**
 * Pairing a new device with one already in the identity (`/lateral/pair/1.0.0`,
 * docs/protocols/pairing.md). The new device shows a one-time code; the old device
 * dials it; both commit to their keys and nonces before revealing them, prove the code's secret,
 * and show a short string derived from both keys, both nonces and the secret; once both people
 * confirm, the new device's join payload and the old device's welcome payload cross. The
 * payloads are opaque here: the identity log decides what they hold.
 *
 * @example
 * ```ts
 * // New device
 * const responder = new PairingResponder({ signer, addresses: () => net.addresses() })
 * await servePairing(net, responder)
 * const invitation = responder.invite({ confirm: ask, join: (offer, ctx) => joinRecord(offer, ctx) })
 * print(invitation.code)
 * const { welcome } = await invitation.result
 *
 * // Old device
 * const { join } = await pairWithCode(net, { signer, code: typed, confirm: ask, welcome: (join) => logFor(join) })
 * ```
 */
export { type CreatedPairingCode, createPairingCode, decodePairingCode, type PairingCode } from './code.ts'
export { type PairOptions, type PairResult, pair } from './initiator.ts'
export { PAIRING_PROTOCOL, type PairWithCodeOptions, pairWithCode, servePairing } from './net-adapter.ts'
export {
  type InvitationResult,
  type InviteOptions,
  type PairingInvitation,
  PairingResponder,
  type PairingResponderComponents,
  type PairingResponderInit,
} from './responder.ts'
export type { ConfirmShortString, PairingContext, PairingLimits, PairingProgress } from './session.ts'
export { sameShortString } from './transcript.ts'
export type { PairingStream } from './wire.ts'
