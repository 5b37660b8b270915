/**
 * Lateral: a peer-to-peer node. Every participant runs the same node; each is client and server.
 *
 * @example
 * ```ts
 * import { createNode } from 'lateral'
 *
 * const node = await createNode({ home: '/home/me/.lateral', passphrase: process.env.LATERAL_PASSPHRASE })
 * console.log(node.peerId, node.net.addresses())
 * await node.net.connect('/ip4/192.168.1.20/tcp/4001/p2p/12D3KooW...')
 * await node.stop()
 * ```
 *
 * @packageDocumentation
 */

export { ERRORS, type ErrorEntry, errorEntry } from './core/error-registry.ts'
export * from './core/errors.ts'
export type { AnyServiceDefinition, ServiceDefinition, Startable } from './core/service.ts'
export { type SignedRecord, signRecord, verifyRecord } from './core/signed-record.ts'
export type { KeyAgreement, Signer } from './core/signer.ts'
export { createDeviceSigner, type DeviceSigner } from './identity/device-signer.ts'
export { createKeystore, type DeviceKey, generateDeviceKey, loadKeystore } from './identity/keystore.ts'
export type { DhtStatus, Net, NetEvents, PeerConnection, ProtocolStream } from './net/types.ts'
export type { ConfigOverrides, LateralConfig } from './node/config.ts'
export { createNode, type LateralNode, type NodeInit, type NodeStatus } from './node/node.ts'
