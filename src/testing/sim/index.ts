/**
 * The simulation harness: N nodes in one process over simulated links (latency, loss,
 * partitions), scripted churn, and recorders. docs/resilience.md shows what it measured.
 *
 * @example
 * ```ts
 * const sim = await SimNetwork.create(100, { kind: 'net', seed: 1, latencyMs: [20, 80] })
 * await sim.connectRandom(3)
 * const trace = new QueryTrace()
 * await sim.node(0).net.findPeer(sim.node(50).peerId, { onQuery: trace.onQuery, useCache: false })
 * ```
 */
export { closestTo, compareDistance, kadIdOfKey, kadIdOfPeer } from './kad.ts'
export { KadFabric, type KadFabricInit, type KadNode } from './kad-fabric.ts'
export { SimNetwork, type SimNetworkInit, type SimNode, type SimNodeKind } from './network.ts'
export { QueryTrace } from './query-trace.ts'
export { hashBytes, hashUnit, sample, seededRandom } from './random.ts'
export { Distribution, LoopLag, memoryNow, Ratio } from './recorders.ts'
