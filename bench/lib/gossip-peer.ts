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
    // All of this process's dials at once (one at a time made the 10 x 20 build take minutes).
    // libp2p refuses more than 5 inbound connections per second from one host, and here every
    // peer is 127.0.0.1: a refused dial is retried after a short, growing, jittered wait.
    await Promise.all(
      (msg.edges as Array<[number, string]>).map(async ([i, addr]) => {
        for (let attempt = 0; ; attempt++) {
          try {
            await nodes[i]?.net.connect(addr)
            return
          } catch (err) {
            if (attempt >= 20) throw err
            await new Promise((r) => setTimeout(r, 250 * (attempt + 1) * (0.5 + Math.random())))
          }
        }
      }),
    )
    say({ connected: true })
  } else if (msg.cmd === 'mesh') {
    // A node short of meshes after the wait is reported, not fatal: the run measures what it gets.
    const meshed = await waitForMeshes(nodes, msg.min).then(
      () => true,
      () => false,
    )
    say({ meshed })
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
