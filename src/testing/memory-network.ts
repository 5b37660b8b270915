/**
 * An in-process network of N Lateral nodes over libp2p's memory transport: no sockets, no
 * discovery beyond what the test wires. For multi-node tests of services.
 *
 * @example
 * ```ts
 * const network = await createMemoryNetwork(5)
 * t.after(() => network.stop())
 * await network.connectRing()
 * ```
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { type DeviceKey, generateDeviceKey } from '../identity/keystore.ts'
import type { ConfigOverrides } from '../node/config.ts'
import { createNode, type LateralNode } from '../node/node.ts'
import { installTeardownGuard } from './teardown-guard.ts'

export interface MemoryNetwork {
  nodes: LateralNode[]
  /** Each node's device key (tests that forge traffic sign with these). */
  keys: DeviceKey[]
  /** Connect node i to node j (i dials j). */
  connect(i: number, j: number): Promise<void>
  /** Every node dials the next one. */
  connectRing(): Promise<void>
  /** Every node dials every other one. */
  connectAll(): Promise<void>
  /** Every other node dials node `hub` (as they would a bootstrap peer). */
  connectStar(hub?: number): Promise<void>
  stop(): Promise<void>
}

export interface MemoryNetworkOptions {
  /** Give node i a home in `<homes>/node-<i>` (its filesystem blockstore and datastore); else all in memory. */
  homes?: string
}

export async function createMemoryNetwork(
  size: number,
  config: ConfigOverrides = {},
  options: MemoryNetworkOptions = {},
): Promise<MemoryNetwork> {
  installTeardownGuard()
  const prefix = randomBytes(4).toString('hex')
  const keys = Array.from({ length: size }, () => generateDeviceKey())
  const nodes = await Promise.all(
    keys.map((key, i) =>
      createNode({
        key,
        ...(options.homes === undefined ? {} : { home: join(options.homes, `node-${i}`) }),
        transport: 'memory',
        config: { listen: [`/memory/${prefix}-${i}`], mdns: false, bootstrap: [], metrics: false, ...config },
      }),
    ),
  )
  const connect = async (i: number, j: number) => {
    const target = nodes[j] as LateralNode
    await (nodes[i] as LateralNode).net.connect(target.net.addresses()[0] as string)
  }
  return {
    nodes,
    keys,
    connect,
    async connectRing() {
      await Promise.all(nodes.map((_, i) => connect(i, (i + 1) % size)))
    },
    async connectStar(hub = 0) {
      await Promise.all(nodes.map((_, i) => (i === hub ? undefined : connect(i, hub))))
    },
    async connectAll() {
      const dials: Array<Promise<void>> = []
      for (let i = 0; i < size; i++) for (let j = i + 1; j < size; j++) dials.push(connect(i, j))
      await Promise.all(dials)
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()))
    },
  }
}
