/**
 * `npm run bench -- stack [--size MiB] [--rounds N] [--node PATH] [--write-sizes 65536,1048576]`
 *
 * The ceiling later transfers are judged against: BYTES over one stream between two processes on
 * 127.0.0.1, through Lateral's own net/ (libp2p, TLS and Noise each), beside a plain Node TLS 1.3
 * socket and a plain TCP socket. Variants are interleaved round by round; medians are reported
 * with CPU seconds and peak RSS of both processes. JSON goes to bench/results/.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { median } from './lib/stats.ts'

const here = dirname(fileURLToPath(import.meta.url))
const PEER = join(here, 'lib', 'stack-peer.ts')

export interface Side {
  cpuSeconds: number
  peakRssMiB: number
  node: string
  seconds?: number
  encryption?: string
  cipher?: string
}

export interface Variant {
  name: string
  kind: string
  writeSize: number
  /** Yamux tuning given to both processes (NetInit.muxer). */
  muxer?: { maxMessageSize?: number; initialStreamWindowSize?: number }
}

function lines(child: ReturnType<typeof spawn>): AsyncIterator<string> {
  return createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]()
}

export async function runOnce(
  nodeBin: string,
  variant: Variant,
  bytes: number,
  cert: string[],
): Promise<{ sender: Side; receiver: Side }> {
  const env = { ...process.env, LATERAL_BENCH_MUXER: JSON.stringify(variant.muxer ?? {}) }
  const receiver = spawn(nodeBin, [PEER, 'recv', variant.kind, String(bytes), ...cert], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  })
  const recvLines = lines(receiver)
  const { address } = JSON.parse((await recvLines.next()).value as string) as { address: string }
  const sender = spawn(nodeBin, [PEER, 'send', variant.kind, String(bytes), address, String(variant.writeSize)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  })
  const sendResult = JSON.parse((await lines(sender).next()).value as string) as Side
  const recvResult = JSON.parse((await recvLines.next()).value as string) as Side
  await Promise.all(
    [receiver, sender].map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)),
  )
  return { sender: sendResult, receiver: recvResult }
}

export async function benchStack(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string', default: '256' },
      rounds: { type: 'string', default: '5' },
      node: { type: 'string', default: process.execPath },
      'write-sizes': { type: 'string', default: '65536,1048576' },
      out: { type: 'string' },
    },
  })
  const bytes = Number(values.size) * 1024 * 1024
  const rounds = Number(values.rounds)
  const nodeBin = values.node as string
  const nodeVersion = execFileSync(nodeBin, ['--version']).toString().trim()
  const writeSizes = (values['write-sizes'] as string).split(',').map(Number)
  const dir = mkdtempSync(join(tmpdir(), 'lateral-bench-'))
  const [certFile, keyFile] = makeCert(dir)

  const variants: Variant[] = [
    { name: 'node-tcp', kind: 'tcp', writeSize: 1048576 },
    { name: 'node-tls13', kind: 'tls', writeSize: 1048576 },
    ...writeSizes.flatMap((w) => [
      { name: `lateral-tls-${w / 1024}k`, kind: 'libp2p-tls', writeSize: w },
      { name: `lateral-noise-${w / 1024}k`, kind: 'libp2p-noise', writeSize: w },
    ]),
    // Yamux tuning: larger data frames, and a larger initial window (both ends agree here).
    { name: 'lateral-tls-1024k-frame256k', kind: 'libp2p-tls', writeSize: 1048576, muxer: { maxMessageSize: 262144 } },
    {
      name: 'lateral-tls-1024k-frame1m-win4m',
      kind: 'libp2p-tls',
      writeSize: 1048576,
      muxer: { maxMessageSize: 1048576, initialStreamWindowSize: 4194304 },
    },
    {
      name: 'lateral-noise-1024k-frame1m-win4m',
      kind: 'libp2p-noise',
      writeSize: 1048576,
      muxer: { maxMessageSize: 1048576, initialStreamWindowSize: 4194304 },
    },
  ]
  const samples = new Map<string, Array<{ sender: Side; receiver: Side }>>()
  console.error(`bench stack: ${values.size} MiB, ${rounds} rounds, ${variants.length} variants, ${nodeVersion}`)
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const result = await runOnce(nodeBin, v, bytes, v.kind === 'tls' ? [certFile, keyFile] : [])
      samples.set(v.name, [...(samples.get(v.name) ?? []), result])
      console.error(
        `  round ${r + 1} ${v.name.padEnd(20)} ${(bytes / 1e6 / (result.sender.seconds as number)).toFixed(0)} MB/s`,
      )
    }
  }
  rmSync(dir, { recursive: true, force: true })

  const tlsMedian = median((samples.get('node-tls13') ?? []).map((s) => bytes / (s.sender.seconds as number)))
  const results = variants.map((v) => {
    const runs = samples.get(v.name) ?? []
    const mbps = median(runs.map((s) => bytes / 1e6 / (s.sender.seconds as number)))
    return {
      variant: v.name,
      writeSize: v.writeSize,
      muxer: v.muxer ?? 'defaults',
      medianMBps: Math.round(mbps),
      ratioToNodeTls: Number(((mbps * 1e6) / tlsMedian).toFixed(2)),
      medianSeconds: Number(median(runs.map((s) => s.sender.seconds as number)).toFixed(3)),
      senderTransferCpuS: Number(median(runs.map((s) => s.sender.cpuSeconds)).toFixed(2)),
      receiverTransferCpuS: Number(median(runs.map((s) => s.receiver.cpuSeconds)).toFixed(2)),
      senderPeakRssMiB: Math.round(Math.max(...runs.map((s) => s.sender.peakRssMiB))),
      receiverPeakRssMiB: Math.round(Math.max(...runs.map((s) => s.receiver.peakRssMiB))),
      negotiated: runs[0]?.sender.encryption ?? runs[0]?.sender.cipher ?? 'none',
      samplesMBps: runs.map((s) => Math.round(bytes / 1e6 / (s.sender.seconds as number))),
    }
  })
  const report = {
    bench: 'stack',
    date: new Date().toISOString(),
    node: nodeVersion,
    sizeMiB: Number(values.size),
    rounds,
    results,
  }
  const out = values.out ?? join(here, 'results', `stack-${nodeVersion}.json`)
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
  console.table(results.map(({ samplesMBps: _s, muxer: _m, ...rest }) => rest))
  console.error(`written ${out}`)
}

/** A throwaway self-signed certificate for the plain TLS variant: [cert, key] paths in `dir`. */
export function makeCert(dir: string): [string, string] {
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
    ],
    { stdio: 'ignore' },
  )
  return [certFile, keyFile]
}
