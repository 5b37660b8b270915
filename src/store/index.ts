export * from './blockstore.ts'
export * from './datastore.ts'
