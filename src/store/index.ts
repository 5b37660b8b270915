export * from './blockstore.ts'
export * from './datastore.ts'
export * from './read-write-lock.ts'
