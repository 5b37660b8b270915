// WebTorrent moving one file between two processes on 127.0.0.1 (no DHT, trackers, LSD or uTP).
//   node webtorrent-peer.mjs send FILE  -> prints {torrent (base64), port}, seeds until stdin closes
//   node webtorrent-peer.mjs recv DIR   <- reads them on stdin, prints {seconds, bytes, ...}
import WebTorrent from 'webtorrent'
import { firstLine, report } from './common.mjs'

const [mode, path] = process.argv.slice(2)
const client = new WebTorrent({
  dht: false,
  tracker: false,
  lsd: false,
  utp: false,
  webSeeds: false,
  natUpnp: false,
  natPmp: false,
})
client.on('error', (err) => {
  console.error(err)
  process.exit(1)
})

if (mode === 'send') {
  client.seed(path, { announce: [], private: true }, (torrent) => {
    process.stdout.write(
      `${JSON.stringify({ torrent: Buffer.from(torrent.torrentFile).toString('base64'), port: client.address().port })}\n`,
    )
  })
  const cpu = process.cpuUsage()
  for await (const _ of process.stdin) {
    // seed until the benchmark closes stdin
  }
  report({ role: 'sender' }, cpu)
} else {
  const { torrent: file, port } = await firstLine()
  const cpu = process.cpuUsage()
  const t0 = performance.now()
  const torrent = client.add(Buffer.from(file, 'base64'), { path, announce: [] })
  torrent.on('ready', () => torrent.addPeer(`127.0.0.1:${port}`))
  await new Promise((resolve) => torrent.once('done', resolve))
  report({ role: 'receiver', seconds: (performance.now() - t0) / 1000, bytes: torrent.length }, cpu)
}
client.destroy(() => process.exit(0))
