export { isStreamTeardownError } from './errors.ts'
export { MDNS_SERVICE_TAG } from './libp2p-options.ts'
export { createNet, type NetComponents, peerIdFromSeed } from './net.ts'
export * from './types.ts'
