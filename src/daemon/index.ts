export * from './api.ts'
export * from './api-file.ts'
export * from './daemon.ts'
export * from './logger.ts'
