export * from './datastore.ts'
