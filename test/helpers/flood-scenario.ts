/**
 * One flood against a real daemon while honest work goes on, for test/floods-*.test.ts and
 * `npm run bench -- floods`. Daemon 0 of a 2-daemon testnet is the target: it holds a file and
 * reads a chat topic; daemon 1 (honest) fetches the file with `lateral get` and publishes chat
 * lines while the flooder (test/helpers/flooder.ts) floods daemon 0. The target's RSS (from
 * /proc) and the latency of `GET /v1/id` on its API are sampled all along.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Testnet } from '../../src/testing/testnet.ts'
import { waitFor } from '../../src/testing/wait.ts'
import { createFlooder, type FloodKind, type FloodResult } from './flooder.ts'

export const CHAT_TOPIC = 'flood-chat'

export interface FloodSample {
  /** ms since the flood started */
  t: number
  rssMiB: number
  /** Latency of one `GET /v1/id`, ms (the API's own responsiveness). */
  apiMs: number
}

export interface FloodOutcome {
  kind: FloodKind
  flood: FloodResult
  samples: FloodSample[]
  rssBeforeMiB: number
  rssPeakMiB: number
  /** RSS once the flood is over and the honest work done. */
  rssAfterMiB: number
  apiP50Ms: number
  apiP99Ms: number
  apiMaxMs: number
  /** The honest `get` finished with the right bytes, and how long it took. */
  honestGetOk: boolean
  honestGetMs: number
  chatSent: number
  chatReceived: number
  /** The target logged the flooder as banned. */
  banned: boolean
  /** The ban was logged before the refusal probe (else the probe's own connection came first). */
  bannedBeforeProbe: boolean
  /** A fresh dial from the flooder was refused after the flood. */
  refusedAfter: boolean
  /** The flooder is no longer among the target's connected peers. */
  disconnected: boolean
}

export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? Number.NaN : Number(m[1]) / 1024
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : (s[Math.min(s.length - 1, Math.floor(q * s.length))] as number)
}

/** Prepare the honest side once per testnet: a file on daemon 0 and its CID. */
export async function addHonestFile(net: Testnet, dir: string, bytes: number): Promise<{ cid: string; path: string }> {
  const path = join(dir, 'honest.bin')
  writeFileSync(path, randomBytes(bytes))
  const added = await net.cli(0, ['add', path, '--json'])
  if (added.code !== 0) throw new Error(`add failed: ${added.stderr}`)
  const cid = (JSON.parse(added.stdout) as { cid: string }).cid
  return { cid, path }
}

export async function runFlood(
  net: Testnet,
  kind: FloodKind,
  honest: { cid: string; path: string; outDir: string },
  options: { durationMs: number; sampleMs?: number; stopAfterRefusals?: number },
): Promise<FloodOutcome> {
  const target = net.daemons[0]
  const pid = target?.process?.pid
  if (target === undefined || pid === undefined) throw new Error('no target daemon')
  const info = target.info
  const apiMs = async (): Promise<number> => {
    const t0 = performance.now()
    const res = await fetch(`${info.url}/v1/id`, { headers: { authorization: `Bearer ${info.token}` } })
    await res.arrayBuffer()
    return performance.now() - t0
  }

  const sub = net.spawnCli(0, ['topic', 'sub', CHAT_TOPIC, '--json'])
  const flooder = await createFlooder(target.address, CHAT_TOPIC)
  const samples: FloodSample[] = []
  const rssBeforeMiB = rssMiB(pid)
  const started = Date.now()
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const latency = await apiMs().catch(() => Number.NaN)
      samples.push({ t: Date.now() - started, rssMiB: rssMiB(pid), apiMs: latency })
      await new Promise((r) => setTimeout(r, options.sampleMs ?? 250))
    }
  })()
  try {
    // Wait until the subscription is in place before counting chat lines.
    await waitFor(
      async () => ((await net.api<{ topics: unknown[] }>(0, '/v1/topics')).topics.length > 0 ? true : undefined),
      {
        timeoutMs: 10_000,
        what: 'the target to join the chat topic',
      },
    ).catch(() => undefined)
    const floodDone = flooder.flood(kind, {
      durationMs: options.durationMs,
      ...(options.stopAfterRefusals === undefined ? {} : { stopAfterRefusals: options.stopAfterRefusals }),
    })
    // Honest work, started a moment into the flood.
    await new Promise((r) => setTimeout(r, Math.min(2_000, options.durationMs / 4)))
    const out = join(honest.outDir, `got-${kind}-${Date.now()}.bin`)
    const getStarted = Date.now()
    const chat = (async () => {
      let sent = 0
      for (let i = 0; i < 10; i++) {
        const r = await net.cli(1, ['topic', 'pub', CHAT_TOPIC, `honest line ${i}`])
        if (r.code === 0) sent++
        await new Promise((res) => setTimeout(res, 200))
      }
      return sent
    })()
    const got = await net.cli(1, ['get', honest.cid, '-o', out, '--timeout', '60'], { timeoutMs: 90_000 })
    const honestGetMs = Date.now() - getStarted
    const honestGetOk = got.code === 0 && readFileSync(out).equals(readFileSync(honest.path))
    const chatSent = await chat
    const flood = await floodDone
    const chatReceived = await waitFor(
      () => {
        const n = sub.lines.filter((l) => l.includes('honest line')).length
        return n >= chatSent ? n : undefined
      },
      { timeoutMs: 10_000, what: 'the chat lines' },
    ).catch(() => sub.lines.filter((l) => l.includes('honest line')).length)
    const isBanned = () => target.stderr.includes('peer banned') && target.stderr.includes(flooder.peerId)
    const bannedBeforeProbe = isBanned()
    const refusedAfter = await flooder.refused()
    // A ban cuts the peer's connections at once; the API is asked until it no longer lists the
    // flooder, for up to 5 s (a connection the flooder's own probe just opened may still be
    // going away).
    const disconnected = await waitFor(
      async () => {
        const peers = await net.api<{ peers: Array<{ peerId: string }> }>(0, '/v1/peers')
        return peers.peers.some((p) => p.peerId === flooder.peerId) ? undefined : true
      },
      { timeoutMs: 5_000, what: 'the flooder to be disconnected' },
    ).catch(() => false)
    sampling = false
    await sampler
    const rssAfterMiB = rssMiB(pid)
    const latencies = samples.map((s) => s.apiMs).filter((x) => Number.isFinite(x))
    return {
      kind,
      flood,
      samples,
      rssBeforeMiB,
      rssPeakMiB: Math.max(rssBeforeMiB, ...samples.map((s) => s.rssMiB)),
      rssAfterMiB,
      apiP50Ms: quantile(latencies, 0.5),
      apiP99Ms: quantile(latencies, 0.99),
      apiMaxMs: Math.max(...latencies),
      honestGetOk,
      honestGetMs,
      chatSent,
      chatReceived,
      banned: isBanned(),
      bannedBeforeProbe,
      refusedAfter,
      disconnected,
    }
  } finally {
    sampling = false
    await sampler
    await sub.stop()
    await flooder.stop()
  }
}
