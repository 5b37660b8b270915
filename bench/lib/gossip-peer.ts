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
const DIALS_AT_ONCE = 4
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
const t0 = performance.now()
const progress = (what: string) =>
  process.stderr.write(`    [process ${offset / count}] ${what} at ${Math.round(performance.now() - t0)} ms\n`)
progress('started')

for await (const line of createInterface({ input: process.stdin })) {
  const msg = JSON.parse(line)
  if (msg.cmd === 'connect') {
    // A few dials at a time: all of a process's dials at once (60 for 20 nodes, each a TLS
    // handshake that makes a certificate) starved the loaded machine, handshakes ran past the
    // 10 s dial timeout and the retries made it worse: the 10 x 20 run never finished connecting.
    // libp2p also refuses more than 5 inbound connections per second from one host, and here
    // every peer is 127.0.0.1: a refused dial is retried after a short, growing, jittered wait.
    let retries = 0
    const queue = [...(msg.edges as Array<[number, string]>)]
    const dialOne = async ([i, addr]: [number, string]) => {
      for (let attempt = 0; ; attempt++) {
        try {
          await nodes[i]?.net.connect(addr)
          return
        } catch (err) {
          retries++
          if (attempt >= 20) throw err
          await new Promise((r) => setTimeout(r, 250 * (attempt + 1) * (0.5 + Math.random())))
        }
      }
    }
    await Promise.all(
      Array.from({ length: DIALS_AT_ONCE }, async () => {
        for (let edge = queue.shift(); edge !== undefined; edge = queue.shift()) await dialOne(edge)
      }),
    )
    progress(`connected ${(msg.edges as unknown[]).length} edges (${retries} retries)`)
    say({ connected: true })
  } else if (msg.cmd === 'mesh') {
    // A node short of meshes after the wait is reported, not fatal: the run measures what it gets.
    const meshed = await waitForMeshes(nodes, msg.min).then(
      () => true,
      () => false,
    )
    progress(`meshes ${meshed ? 'complete' : 'short'}`)
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
