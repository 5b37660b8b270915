/**
 * Shared by test/disk-full.test.ts and `npm run bench -- kills`: a daemon on a home the caller
 * chose (a small tmpfs for disk-full runs), a seeded random source for kill moments, and tmpfs
 * mounts made and removed by the test (root only).
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { seededRandom } from '../../src/testing/sim/random.ts'
import { checkStore, type StoreReport } from '../../src/testing/store-check.ts'
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

/** Seeded, so a failing run can be replayed with its seed (the simulations' generator). */
export { seededRandom }

export interface KillRun {
  run: number
  op: 'add' | 'get'
  /** ms after the operation started that the daemon was killed. */
  killedAfterMs: number
  /** Whether the operation had already finished when the kill came. */
  finishedFirst: boolean
  report: StoreReport
}

/**
 * `runs` rounds on one home: start the daemon, start an `add` of a fresh random file or a `get`
 * of fresh content from the seeder, SIGKILL the daemon at a random moment (seeded) within
 * `windowMs`, then check the store offline. The next round's start opens the store the kill
 * left behind.
 */
export async function killLoop(options: {
  home: string
  seeder: { address: string; add(path: string): Promise<string> }
  dir: string
  runs: number
  seed: number
  windowMs: number
  fileBytes: number
  onRun?: (r: KillRun) => void
}): Promise<KillRun[]> {
  const rand = seededRandom(options.seed)
  const results: KillRun[] = []
  for (let run = 0; run < options.runs; run++) {
    const op = rand() < 0.5 ? 'add' : 'get'
    const killAt = Math.floor(rand() * options.windowMs)
    const file = join(options.dir, `k${run}.bin`)
    writeFileSync(file, randomBytes(options.fileBytes))
    const cid = op === 'get' ? await options.seeder.add(file) : undefined
    const daemon = await startDaemonOn(options.home, options.seeder.address)
    const started = Date.now()
    let finished = false
    const args = op === 'add' ? ['add', file] : ['get', cid as string, '-o', join(options.dir, `k${run}.out`)]
    const cli = runCli([...args, '--home', options.home], { timeoutMs: 60_000 }).then(() => {
      finished = true
    })
    await new Promise((r) => setTimeout(r, killAt))
    await killDaemon(daemon, 'SIGKILL')
    const killedAfterMs = Date.now() - started
    const finishedFirst = finished
    await cli
    const report = await checkStore(options.home)
    const r = { run, op, killedAfterMs, finishedFirst, report } as KillRun
    results.push(r)
    options.onRun?.(r)
  }
  return results
}
