export * from './blockstore.ts'
export * from './datastore.ts'
export * from './read-write-lock.ts'
export type { SlotHashAlgorithm as HashAlgorithm } from './slot-hasher.ts'
