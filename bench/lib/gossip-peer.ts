/**
 * One process of the cross-process `bench gossip`: K Lateral nodes on 127.0.0.1 (TCP), driven
 * by JSON lines on stdin; answers with JSON lines on stdout.
 *   -> {"cmd":"connect","edges":[[local, multiaddr], ...]}   <- {"connected":true}
 *   -> {"cmd":"mesh","min":n}                                <- {"meshed":true}
 *   -> {"cmd":"publish","count":c,"intervalMs":i,"size":s}   <- {"published":[[index, t], ...]}
 *   -> {"cmd":"report"}                                      <- {"receipts":[[node, index, t], ...]}
 *   -> {"cmd":"exit"}
 * At start it prints {"addresses":[...]} (one per node).
 */
import { createInterface } from 'node:readline'
import { generateDeviceKey } from '../../src/identity/keystore.ts'
import { createNode, type LateralNode } from '../../src/node/node.ts'
import { now, payload, record, TOPIC, waitForMeshes } from './gossip-net.ts'

const count = Number(process.argv[2] ?? 1)
const offset = Number(process.argv[3] ?? 0)
const nodes: LateralNode[] = []
for (let i = 0; i < count; i++) {
  nodes.push(
    await createNode({
      key: generateDeviceKey(),
      config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, metrics: false, connections: { autoDialTarget: 0 } },
    }),
  )
}
const receipts: Array<[number, number, number]> = []
nodes.forEach((node, i) => {
  node.messaging.join(TOPIC)
  record(node, (index, at) => receipts.push([offset + i, index, at]))
})
const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`)
say({ addresses: nodes.map((n) => n.net.addresses()[0]) })

for await (const line of createInterface({ input: process.stdin })) {
  const msg = JSON.parse(line)
  if (msg.cmd === 'connect') {
    // libp2p limits inbound connections per host per second, and here every peer is 127.0.0.1:
    // dial one at a time and retry a refused dial.
    for (const [i, addr] of msg.edges as Array<[number, string]>) {
      for (let attempt = 0; ; attempt++) {
        try {
          await nodes[i]?.net.connect(addr)
          break
        } catch (err) {
          if (attempt >= 10) throw err
          await new Promise((r) => setTimeout(r, 300 * (attempt + 1)))
        }
      }
    }
    say({ connected: true })
  } else if (msg.cmd === 'mesh') {
    await waitForMeshes(nodes, msg.min)
    say({ meshed: true })
  } else if (msg.cmd === 'publish') {
    const published: Array<[number, number]> = []
    for (let k = 0; k < msg.count; k++) {
      published.push([k, now()])
      await nodes[0]?.messaging.publish(TOPIC, payload(k, msg.size), { type: 'application/octet-stream' })
      if (msg.intervalMs > 0) await new Promise((r) => setTimeout(r, msg.intervalMs))
    }
    say({ published })
  } else if (msg.cmd === 'report') {
    say({ receipts: receipts.splice(0) })
  } else if (msg.cmd === 'exit') {
    break
  }
}
await Promise.all(nodes.map((n) => n.stop()))
process.exit(0)
