/**
 * `node bench/stalled-readers.ts [--streams 16] [--size 64] [--read-first 0] [--seconds 40]`
 *
 * What a peer that asks for blocks and never reads them costs a seeder. A seeder daemon (from
 * dist/, on 127.0.0.1) adds a random file of --size MB; a plain js-libp2p peer (TCP, Noise,
 * Yamux with windows capped at 256 KiB) opens --streams blocks streams, wants every block of
 * the file on each, all at once, reads --read-first KiB per stream (for at most 2 s) and then
 * stops reading (pauses). The seeder's RSS is sampled from /proc while the streams open and
 * for --seconds after; prints the baseline, the peak and the growth. A measurement, not a
 * test: nothing is asserted.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import * as dagPb from '@ipld/dag-pb'
import type { Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import { BLOCKS_PROTOCOL, decodeMessage, encodeMessage, MAX_FRAME_BYTES } from '../src/content/blocks-message.ts'
import { encodeFrame, FrameReader } from '../src/core/framing.ts'
import { createTestnet } from '../src/testing/testnet.ts'

const MiB = 1024 * 1024
const { values } = parseArgs({
  options: {
    streams: { type: 'string', default: '16' },
    size: { type: 'string', default: '64' },
    'read-first': { type: 'string', default: '0' },
    seconds: { type: 'string', default: '40' },
  },
})
const streams = Number(values.streams)
const size = Number(values.size) * 1_000_000
const readFirst = Number(values['read-first']) * 1024
const seconds = Number(values.seconds)

const rssMiB = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? Number.NaN : Number(m[1]) / 1024
}
const want = (cids: CID[]) =>
  encodeFrame(encodeMessage({ t: 'want', wants: cids.map((cid) => ({ cid, kind: 0 as const })) }))

const dir = mkdtempSync(join(tmpdir(), 'lateral-stalled-'))
const net = await createTestnet(1)
const attacker = await createLibp2p({
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: 256 * 1024 } })],
})
try {
  const seeder = net.daemons[0]
  const pid = seeder?.process?.pid
  if (seeder === undefined || pid === undefined) throw new Error('no seeder daemon')
  const file = join(dir, 'file.bin')
  writeFileSync(file, randomBytes(size))
  const added = await net.cli(0, ['add', file, '--json'], { timeoutMs: 120_000 })
  if (added.code !== 0) throw new Error(`add failed: ${added.stderr}`)
  const root = CID.parse((JSON.parse(added.stdout) as { cid: string }).cid)

  // The root block names every leaf.
  const address = multiaddr(seeder.address)
  const first = await attacker.dialProtocol(address, BLOCKS_PROTOCOL)
  first.send(want([root]))
  const reader = new FrameReader(MAX_FRAME_BYTES)
  let rootBytes: Uint8Array | undefined
  for await (const chunk of first) {
    for (const frame of reader.push(chunk.subarray())) {
      const m = decodeMessage(frame)
      if (m.t === 'block') rootBytes = m.data
    }
    if (rootBytes !== undefined) break
  }
  await first.close()
  if (rootBytes === undefined) throw new Error('root block not received')
  const cids = [root, ...dagPb.decode(rootBytes).Links.map((l) => l.Hash)]

  await new Promise((r) => setTimeout(r, 1000))
  const baseline = rssMiB(pid)
  let peak = baseline
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMiB(pid))
  }, 100)
  const opening = Date.now()
  // All streams at once, each reading at most --read-first KiB (or for 2 s) before it stops.
  const opened: Stream[] = await Promise.all(
    Array.from({ length: streams }, async () => {
      const s = await attacker.dialProtocol(address, BLOCKS_PROTOCOL)
      s.maxReadBufferLength = Number.POSITIVE_INFINITY
      s.send(want(cids))
      if (readFirst > 0) {
        let read = 0
        const deadline = setTimeout(() => s.pause(), 2000)
        s.addEventListener('message', (evt) => {
          read += evt.data.byteLength
          if (read >= readFirst) s.pause()
        })
        await new Promise<void>((resolve) => {
          const check = setInterval(() => {
            if (s.readStatus === 'paused' || s.status !== 'open') {
              clearInterval(check)
              clearTimeout(deadline)
              resolve()
            }
          }, 10)
        })
      } else s.pause()
      return s
    }),
  )
  const openSeconds = (Date.now() - opening) / 1000
  await new Promise((r) => setTimeout(r, seconds * 1000))
  clearInterval(sampler)
  const end = rssMiB(pid)
  const reset = opened.filter((s) => s.status !== 'open').length
  console.log(
    JSON.stringify({
      streams,
      fileMB: size / 1_000_000,
      blocksWantedPerStream: cids.length,
      readFirstKiB: readFirst / 1024,
      openSeconds,
      seconds,
      seederRssMiB: { baseline: Math.round(baseline), peak: Math.round(peak), end: Math.round(end) },
      growthMiB: Math.round(peak - baseline),
      streamsResetBySeeder: reset,
      wantedMiB: Math.round((streams * size) / MiB),
    }),
  )
} finally {
  await attacker.stop()
  await net.stop()
  rmSync(dir, { recursive: true, force: true })
}
