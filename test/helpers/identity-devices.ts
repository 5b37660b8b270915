/**
 * Devices and log replicas for the identity log tests: a device is a signer with its X25519 key
 * agreement; a replica is another peer's verified copy of a log.
 */
import type { DeviceSigner } from '../../src/identity/device-signer.ts'
import { createDeviceSigner } from '../../src/identity/device-signer.ts'
import { generateDeviceKey } from '../../src/identity/keystore.ts'
import { createJoinRequest, type IdentityLog, type IdentityLogInit, verifyLog } from '../../src/identity/log/index.ts'

export function newDevice(): DeviceSigner {
  return createDeviceSigner(generateDeviceKey())
}

/** A peer's own copy of `log`, verified from its entries. */
export function replica(log: IdentityLog, init: IdentityLogInit = {}): IdentityLog {
  return verifyLog(log.id, log.entries(), init)
}

/** `by` adds `device` to `log` (the join record signed by `device`); returns the entry's bytes. */
export async function addDevice(log: IdentityLog, by: DeviceSigner, device: DeviceSigner, name = 'device') {
  const join = await createJoinRequest(device, device, { identity: log.id, name })
  return (await log.append(by, { kind: 'addDevice', join })).bytes
}

/** Every permutation of `items` (for a handful of concurrent entries). */
export function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items]
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  )
}

/** Give `log` every entry of `from` it does not hold (an exchange between two peers, one way). */
export function pull(log: IdentityLog, from: IdentityLog): void {
  for (const bytes of from.entries()) log.add(bytes)
}
