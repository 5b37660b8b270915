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
export { createNode, type LateralNode, type NodeInit, type NodeStatus } from './node/node.ts'
export type { LateralConfig, ConfigOverrides } from './node/config.ts'
export { createKeystore, loadKeystore, generateDeviceKey, type DeviceKey } from './identity/keystore.ts'
export type { Net, PeerConnection, DhtStatus, NetEvents, ProtocolStream } from './net/types.ts'
export * from './core/errors.ts'
export { ERRORS, errorEntry, type ErrorEntry } from './core/error-registry.ts'
