/**
 * Shared by test/disk-full.test.ts and `npm run bench -- kills`: a daemon on a home the caller
 * chose (a small tmpfs for disk-full runs), a seeded random source for kill moments, and tmpfs
 * mounts made and removed by the test (root only).
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { runCli, startTestDaemon, type TestDaemon } from '../../src/testing/testnet.ts'

const run = promisify(execFile)

/** Why a tmpfs cannot be mounted here, or undefined when it can. */
export async function tmpfsUnavailable(probeDir: string): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'tmpfs mounts need Linux'
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root'
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probeDir])
    await run('umount', [probeDir])
    return undefined
  } catch (err) {
    return `cannot mount a tmpfs: ${(err as Error).message.split('\n')[0]}`
  }
}

export async function mountTmpfs(dir: string, sizeMiB: number): Promise<() => Promise<void>> {
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', dir])
  return async () => {
    await run('umount', ['-l', dir]).catch(() => {})
  }
}

export async function initHome(home: string): Promise<void> {
  const created = await runCli(['init', '--home', home, '--no-passphrase', '--json'])
  if (created.code !== 0) throw new Error(`init failed: ${created.stderr}`)
}

export function startDaemonOn(home: string, bootstrap?: string): Promise<TestDaemon> {
  const args = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns']
  if (bootstrap !== undefined) args.push('--bootstrap', bootstrap)
  return startTestDaemon(9, home, args)
}

/** Kill a daemon with a signal and wait for it to be gone. */
export async function killDaemon(d: TestDaemon, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  const child = d.process
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exit = new Promise((r) => child.once('exit', r))
  child.kill(signal)
  await exit
  d.process = undefined
}

/** Mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
