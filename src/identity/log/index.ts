/**
 * The identity log (docs/protocols/identity.md, schemas/identity.cddl): the devices of one person,
 * as signed, hash-linked entries that merge deterministically. Pure: no network; storage through
 * `createIdentityLogStore` over a datastore.
 *
 * @example
 * ```ts
 * // The first device starts an identity; its ID is the CID of the genesis entry.
 * const log = await IdentityLog.create(laptop, laptop, { name: 'laptop', profile: 'Ada' })
 * await log.append(laptop, { kind: 'rotateDataKey', dataKey: newDataKey() })
 *
 * // A new device signs a join record; a device of the identity embeds it in an addDevice.
 * const join = await createJoinRequest(phone, phone, { identity: log.id, name: 'phone' })
 * await log.append(laptop, { kind: 'addDevice', join })
 *
 * // Another peer takes the entries, in any order (unknown parents wait), and gets the same state.
 * const copy = verifyLog(log.id, log.entries())
 * copy.add(bytesFromAPeer)             // { status: 'added' | 'duplicate' | 'pending', cid }
 * copy.state().devices                 // [{ peerId, name, x25519, addedAt, addedBy, entry, seq }, ...]
 * copy.revokedAt(peerId)               // the removal, once a device is removed
 *
 * // Remove a device, then give the others a key it never saw.
 * await log.append(laptop, { kind: 'removeDevice', device: phone.peerId, lost: true })
 * await log.append(laptop, { kind: 'rotateDataKey', dataKey: newDataKey() })
 * const { epoch, key } = log.openDataKey(laptop, laptop.peerId)
 *
 * // Persist and reload (verified again).
 * const store = createIdentityLogStore(datastore)
 * await store.save(log)
 * const again = await store.load(log.id)
 * ```
 *
 * Errors: InvalidInputError (bytes, signature, schema, size), IdentityRuleError (a rule of the
 * entry's past, or a write the state would void), ForkError (with the proof), IdentityLogFullError.
 */
export { type DataKeyContext, newDataKey, openDataKey, sealDataKey } from './data-key.ts'
export {
  ENTRY_TYPES,
  type EntryKind,
  JOIN_TYPE,
  type JoinPayload,
  type PayloadOf,
  type SealedDataKey,
} from './entries.ts'
export { createJoinRequest, type IdentityEntry, type JoinRequestInit, readJoinRequest } from './entry-codec.ts'
export {
  type AddResult,
  type AppendedEntry,
  type EntryInput,
  type GenesisInit,
  IdentityLog,
  type IdentityLogInit,
  verifyLog,
} from './identity-log.ts'
export type { DataKeyState, DeviceRecord, IdentityState, RemovedDeviceRecord } from './rules.ts'
export { createIdentityLogStore, type IdentityLogStore } from './store.ts'
