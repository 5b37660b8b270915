/**
 * The identity's vault (core/vault.ts): data sealed under the identity's current data key, which
 * every current device holds a copy of in the log. Boxes sealed under an earlier epoch still open
 * on the devices that held that epoch's key; a device removed before the sealing never held the
 * key it needs. Opened keys are kept in memory only, by identity and epoch.
 *
 * A device that holds no copy of the current key (removed from the identity, or linked a moment
 * ago and waiting for the key to be sealed to it) seals to its own device key instead, so what
 * it writes stays readable to itself and to no one else.
 */
import { InvalidInputError, NotFoundError } from '../core/errors.ts'
import type { KeyAgreement } from '../core/signer.ts'
import { type DataVault, decodeBox, deviceVault, openWithKey, sealWithKey } from '../core/vault.ts'
import type { IdentityLog } from './log/index.ts'

export function identityVault(
  ownLog: () => IdentityLog,
  keyAgreement: KeyAgreement,
  peerId: string,
  recovered: (identity: string, epoch: number) => Uint8Array | undefined = () => undefined,
): DataVault {
  const keys = new Map<string, Uint8Array>()
  const ownDevice = deviceVault(keyAgreement)
  const keyOf = (log: IdentityLog, epoch?: number): { epoch: number; key: Uint8Array } => {
    const wanted = epoch ?? log.state().dataKey.epoch
    const cached = keys.get(`${log.id}/${wanted}`)
    if (cached !== undefined) return { epoch: wanted, key: cached }
    // A key rebuilt from the guardians' shares after a recovery: this device had no copy of it.
    const rebuilt = recovered(log.id, wanted)
    if (rebuilt !== undefined) return { epoch: wanted, key: rebuilt }
    const opened = log.openDataKey(keyAgreement, peerId, wanted)
    keys.set(`${log.id}/${wanted}`, opened.key)
    return opened
  }
  return {
    seal(plaintext, purpose) {
      const log = ownLog()
      let current: { epoch: number; key: Uint8Array }
      try {
        current = keyOf(log)
      } catch (err) {
        if (err instanceof NotFoundError) return ownDevice.seal(plaintext, purpose)
        throw err
      }
      return sealWithKey(current.key, log.id, current.epoch, plaintext, purpose)
    },
    open(bytes, purpose) {
      const box = decodeBox(bytes)
      if (box.identity === '') return ownDevice.open(bytes, purpose)
      const log = ownLog()
      if (box.identity !== log.id) {
        throw new InvalidInputError(
          `this ${purpose} box was sealed under identity ${box.identity}, not this device's identity ${log.id}`,
        )
      }
      let key: Uint8Array
      try {
        key = keyOf(log, box.epoch).key
      } catch (err) {
        if (err instanceof NotFoundError)
          throw new InvalidInputError(`${err.message}: this ${purpose} box cannot be opened here`)
        throw err
      }
      return openWithKey(key, box, purpose)
    },
  }
}
