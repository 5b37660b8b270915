// Helia (IPFS in JS, bitswap) moving one file between two processes on 127.0.0.1.
//   node helia-peer.mjs send FILE   -> prints {cid, address}, serves until stdin closes
//   node helia-peer.mjs recv        <- reads {cid, address} on stdin, prints {seconds, bytes, ...}
import { createReadStream } from 'node:fs'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { unixfs } from '@helia/unixfs'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createHelia } from 'helia'
import { CID } from 'multiformats/cid'
import { firstLine, report } from './common.mjs'

const [mode, file] = process.argv.slice(2)
// No outside discovery or routing: only the two processes.
const helia = await createHelia({
  libp2p: {
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: [],
    services: { identify: identify() },
  },
  routers: [],
})
await helia.start()
const fs = unixfs(helia)

if (mode === 'send') {
  const cid = await fs.addByteStream(createReadStream(file, { highWaterMark: 1024 * 1024 }))
  process.stdout.write(
    `${JSON.stringify({ cid: cid.toString(), address: helia.libp2p.getMultiaddrs()[0].toString() })}\n`,
  )
  const cpu = process.cpuUsage()
  for await (const _ of process.stdin) {
    // serve until the benchmark closes stdin
  }
  report({ role: 'sender' }, cpu)
} else {
  const { cid, address } = await firstLine()
  await helia.libp2p.dial(multiaddr(address))
  const cpu = process.cpuUsage()
  const t0 = performance.now()
  let bytes = 0
  for await (const chunk of fs.cat(CID.parse(cid))) bytes += chunk.length
  report({ role: 'receiver', seconds: (performance.now() - t0) / 1000, bytes }, cpu)
}
await helia.stop()
process.exit(0)
