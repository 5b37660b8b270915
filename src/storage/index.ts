/**
 * Delegated storage (issue 12): peers holding a `/store/put` grant keep content for an identity,
 * and the identity's devices check at random times that they still do.
 *
 * @example
 * ```ts
 * const storage = createStorage({}, { net, datastore, blockstore, logger, identity, delegation, content })
 * await storage.start()
 * await storage.put(cid, keeperPeerId)           // the keeper fetches the DAG and pins it
 * const [result] = await storage.check(cid, keeperPeerId)
 * ```
 */
export type { StorageContent } from './content-port.ts'
export type { StorageRefusal } from './keeper.ts'
export type { DropReason } from './kept-copies.ts'
export type { KeptCopy } from './kept-store.ts'
export type { PlacementView } from './owner.ts'
export type { CheckResult } from './placements.ts'
export {
  type CheckOutcome,
  createStorage,
  type PlacementListing,
  type PutOutcome,
  type Storage,
  type StorageComponents,
  type StorageEvents,
  type StorageInit,
  type SubjectUsage,
} from './storage.ts'
export { REFUSALS, type RefusalCode, STORAGE_PROTOCOL } from './wire.ts'
