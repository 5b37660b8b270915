/**
 * How many nodes one process holds, per kind of node: N nodes start, each dials `degree` random
 * others and joins one topic; then, idle for `idleMs`: memory per node, the share of one core
 * the process burns doing nothing but the nodes' own timers (gossipsub heartbeats, DHT and
 * connection upkeep), event-loop lag, and whether every node kept a gossip mesh.
 */
import { wireTopic } from '../../src/messaging/topics.ts'
import { LoopLag, memoryNow, SimNetwork } from '../../src/testing/sim/index.ts'
import { waitFor } from '../../src/testing/wait.ts'

export async function capacityRun(kind: 'full' | 'net', nodes: number, idleMs: number, log: (l: string) => void) {
  const t0 = performance.now()
  const before = memoryNow()
  const sim = await SimNetwork.create(nodes, {
    kind,
    seed: 11,
    net: { autoDialTarget: 0, encrypters: ['noise'] },
    config: { connections: { autoDialTarget: 0 }, encrypters: ['noise'] },
  })
  try {
    const created = Math.round((performance.now() - t0) / 1000)
    await sim.connectRandom(4)
    const topic = wireTopic('capacity')
    for (const n of sim.nodes) {
      if (n.node !== undefined) n.node.messaging.join('capacity')
      else n.net.pubsub.subscribe(topic)
    }
    const meshed = await waitFor(() => sim.nodes.every((n) => n.net.pubsub.meshPeers(topic).length >= 3), {
      timeoutMs: 90_000,
      intervalMs: 250,
    })
      .then(() => true)
      .catch(() => false)
    const buildSeconds = Math.round((performance.now() - t0) / 1000)
    if (typeof global.gc === 'function') global.gc()
    const lag = new LoopLag().start()
    const cpu0 = process.cpuUsage()
    const w0 = performance.now()
    // Idle on purpose: what the nodes cost when nobody asks them anything.
    await new Promise((r) => setTimeout(r, idleMs))
    const cpu = process.cpuUsage(cpu0)
    const idleCpuShare = Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - w0)) * 100) / 100
    const loopLag = lag.stop()
    const after = memoryNow()
    const meshes = sim.nodes.map((n) => n.net.pubsub.meshPeers(topic).length)
    const result = {
      kind,
      nodes,
      createSeconds: created,
      buildSeconds,
      meshedWithin90s: meshed,
      nodesWithMeshBelow3AfterIdle: meshes.filter((m) => m < 3).length,
      rssMiB: after.rssMiB,
      rssPerNodeMiB: Math.round(((after.rssMiB - before.rssMiB) / nodes) * 100) / 100,
      heapUsedPerNodeMiB: Math.round(((after.heapUsedMiB - before.heapUsedMiB) / nodes) * 100) / 100,
      idleCpuShareOfOneCore: idleCpuShare,
      eventLoopLagIdle: loopLag,
    }
    log(`  capacity ${kind} ${nodes}: ${JSON.stringify(result)}`)
    return result
  } finally {
    await sim.stop()
  }
}
