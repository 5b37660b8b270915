/**
 * `npm run bench -- daemon [--rounds N]`: what a user feels of the daemon.
 * - cold start: `lateral daemon` spawned → api.json written (median of N), with the keystore's
 *   default scrypt cost included (passphrase-protected key);
 * - idle RSS: resident memory of a daemon 10 s after start, alone and with 2 peers;
 * - discovery: three daemons bootstrapped from the first, time from the third being ready until
 *   every one lists the other two.
 * JSON to bench/results/daemon.json.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createTestnet, runCli, startTestDaemon } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'
import { median } from './lib/stats.ts'

const here = dirname(fileURLToPath(import.meta.url))

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return Math.round(kb / 1024)
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function benchDaemon(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { rounds: { type: 'string', default: '5' } } })
  const rounds = Number(values.rounds)
  const root = await mkdtemp(join(tmpdir(), 'lateral-bench-daemon-'))
  const env = { LATERAL_PASSPHRASE: 'bench passphrase' }
  const args = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns']
  const home = join(root, 'cold')
  await runCli(['init', '--home', home], { env })

  const starts: number[] = []
  let idleAlone = 0
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now()
    const d = await startTestDaemon(0, home, args, env)
    starts.push(performance.now() - t0)
    if (r === rounds - 1) {
      await pause(10_000)
      idleAlone = rssMiB(d.process?.pid as number)
    }
    d.process?.kill('SIGTERM')
    await new Promise((resolve) => d.process?.once('exit', resolve))
    console.error(`  cold start ${r + 1}: ${Math.round(starts[r] as number)} ms`)
  }

  const meshes: number[] = []
  let idleWithPeers = 0
  for (let r = 0; r < Math.min(rounds, 3); r++) {
    const net = await createTestnet(3, { bootstrap: 'first' })
    const ready = performance.now()
    for (let i = 0; i < 3; i++) {
      await waitFor(async () => (await net.api<{ peers: unknown[] }>(i, '/v1/peers')).peers.length === 2, {
        intervalMs: 10,
      })
    }
    meshes.push(performance.now() - ready)
    if (r === 0) {
      await pause(10_000)
      idleWithPeers = rssMiB(net.daemons[0]?.process?.pid as number)
    }
    await net.stop()
    console.error(`  three-daemon mesh ${r + 1}: ${Math.round(meshes[r] as number)} ms`)
  }
  await rm(root, { recursive: true, force: true })

  const report = {
    bench: 'daemon',
    date: new Date().toISOString(),
    node: process.version,
    coldStartMs: { median: Math.round(median(starts)), samples: starts.map(Math.round) },
    idleRssMiB: { alone: idleAlone, withTwoPeers: idleWithPeers },
    threeDaemonMeshMs: { median: Math.round(median(meshes)), samples: meshes.map(Math.round) },
  }
  writeFileSync(join(here, 'results', 'daemon.json'), `${JSON.stringify(report, null, 2)}\n`)
  console.log(JSON.stringify(report, null, 2))
}
