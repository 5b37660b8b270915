/**
 * Lateral's root authority: a subject may be an identity (`did:lateral:<ID>`), which has no key;
 * its current devices speak for it, as the identity log decides. These build the hooks of chain.ts
 * from the identity directory (core/identities.ts), so this module never imports the identity service.
 */
import { DelegationError } from '../../core/errors.ts'
import { type IdentityDirectory, revocationReason } from '../../core/identities.ts'
import { ed25519PeerId, publicKeyFromDid } from '../../core/signer.ts'
import type { DeviceRemovalCheck, RootAuthority } from './chain-rules.ts'
import { clip, identityIdOfDid } from './did.ts'

/**
 * Root authority for both kinds of subject: a `did:key` subject roots its own chains (strict
 * UCAN); an identity's chains are rooted by a device that is current in it now (`InvalidClaim`
 * otherwise, and when this node does not know the identity's log).
 */
export function identityRootAuthority(directory: Pick<IdentityDirectory, 'devicesOf' | 'revocation'>): RootAuthority {
  return (subject, rootIssuer) => {
    const id = identityIdOfDid(subject)
    if (id === undefined) {
      if (subject === rootIssuer) return
      throw new DelegationError(`issued by ${clip(rootIssuer)}, not by its subject ${clip(subject)}`, 'InvalidClaim')
    }
    const devices = directory.devicesOf(id)
    if (devices === undefined) {
      throw new DelegationError(`the log of identity ${id} is unknown here: its devices cannot be told`, 'InvalidClaim')
    }
    const peerId = peerIdOfDid(rootIssuer)
    const removal = directory.revocation(peerId)
    if (removal !== undefined && removal.identity === id) {
      // Named for what happened: the device that rooted the chain was removed since.
      throw new DelegationError(`issued by a removed device: ${revocationReason(peerId, removal)}`, 'DeviceRemoved')
    }
    if (!devices.includes(peerId)) {
      throw new DelegationError(`${clip(rootIssuer)} is not a current device of identity ${id}`, 'InvalidClaim')
    }
  }
}

/** Devices removed from their identity (at or before the time asked about) may no longer sign. */
export function removedDeviceCheck(directory: Pick<IdentityDirectory, 'revocation'>): DeviceRemovalCheck {
  return (did, atSeconds) => {
    const peerId = peerIdOfDid(did)
    const removal = directory.revocation(peerId)
    return removal !== undefined && removal.at <= atSeconds * 1000 ? revocationReason(peerId, removal) : undefined
  }
}

/** The libp2p peer ID of an Ed25519 `did:key` (how the identity log names devices). */
export function peerIdOfDid(did: string): string {
  return ed25519PeerId(publicKeyFromDid(did))
}
