/**
 * A multi-process testnet: N real `lateral daemon` processes on 127.0.0.1 with temporary homes,
 * port 0 everywhere, no mDNS, torn down (processes killed by PID, homes removed) by `stop()`.
 *
 * @example
 * ```ts
 * const net = await createTestnet(3, { bootstrap: 'first' })
 * t.after(() => net.stop())
 * const { stdout } = await net.cli(1, ['peers', '--json'])
 * ```
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { homePaths } from '../core/home.ts'
import { type ApiInfo, readApiFile } from '../daemon/api-file.ts'
import { waitFor } from './wait.ts'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const LATERAL_BIN = join(REPO_ROOT, 'bin', 'lateral.js')

export interface TestDaemon {
  index: number
  home: string
  /** The running process, undefined while stopped. */
  process: ChildProcess | undefined
  info: ApiInfo
  peerId: string
  /** TCP listen address with /p2p/. */
  address: string
  /** Everything the process wrote to stderr (log lines). */
  stderr: string
}

export interface TestnetInit {
  /** `first`: daemons 1..N-1 bootstrap from daemon 0. */
  bootstrap?: 'first' | 'none'
  /** Extra `lateral daemon` flags for every daemon. */
  args?: string[]
  env?: NodeJS.ProcessEnv
  /** Settings written into every daemon's config.json (merged per section) before it starts. */
  config?: Record<string, unknown>
}

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export interface Testnet {
  daemons: TestDaemon[]
  /** Run `lateral <args>` against daemon i's home. */
  cli(i: number, args: string[], options?: { env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult>
  /** Start a long-running `lateral <args>` against daemon i's home. */
  spawnCli(i: number, args: string[], options?: { stdin?: boolean }): CliProcess
  /** API GET on daemon i, JSON parsed. */
  api<T>(i: number, path: string): Promise<T>
  /** Send a signal to daemon i and wait for it to exit. */
  kill(i: number, signal?: NodeJS.Signals): Promise<number | null>
  /** Start daemon i again on its home (same key, same datastore); `args` replace its flags. */
  restart(i: number, options?: { args?: string[] }): Promise<TestDaemon>
  stop(): Promise<void>
}

/** Run the lateral CLI as a separate process. */
export function runCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; wrap?: string[] } = {},
): Promise<CliResult> {
  const [file, ...argv] = [...(options.wrap ?? []), process.execPath, LATERAL_BIN, ...args] as [string, ...string[]]
  return new Promise((resolvePromise) => {
    execFile(
      file,
      argv,
      { env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 60_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
        resolvePromise({ code, stdout, stderr })
      },
    )
  })
}

/**
 * API GET on a daemon that runs inside a network namespace (its API listens on that namespace's
 * loopback): curl through `wrap` (`ip netns exec NS`), JSON parsed. A failed request throws.
 */
export function apiInNamespace<T>(daemon: TestDaemon, wrap: string[], path: string): Promise<T> {
  const command: string[] = [
    ...wrap,
    'curl',
    '-sSf',
    '--max-time',
    '20',
    '-H',
    `authorization: Bearer ${daemon.info.token}`,
    `${daemon.info.url}${path}`,
  ]
  const [file, ...argv] = command as [string, ...string[]]
  return new Promise((resolvePromise, reject) => {
    execFile(file, argv, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`GET ${path}: ${stderr.trim() || err.message}`))
      else resolvePromise(JSON.parse(stdout) as T)
    })
  })
}

export interface CliProcess {
  process: ChildProcess
  /** Lines printed on stdout so far. */
  lines: string[]
  /** Wait for a stdout line that matches. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number): Promise<string>
  /** Send a signal and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  /** Wait for the process to end by itself; its exit code. */
  exited(): Promise<number | null>
  /** Everything printed on stderr so far. */
  stderr(): string
  /** Write a line to its standard input (spawned with `stdin: true`). */
  writeLine(line: string): void
}

/** Start a long-running CLI command (`topic sub`, `msg inbox --follow`) as a process. */
export function spawnCli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: boolean; wrap?: string[] } = {},
): CliProcess {
  const [file, ...argv] = [...(options.wrap ?? []), process.execPath, LATERAL_BIN, ...args] as [string, ...string[]]
  const child = spawn(file, argv, {
    env: { ...process.env, ...options.env },
    stdio: [options.stdin === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let partial = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk
    const parts = partial.split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  return {
    process: child,
    lines,
    exited: () => exit,
    stderr: () => stderr,
    writeLine: (line) => {
      if (child.stdin === null) throw new Error('spawned without stdin')
      child.stdin.write(`${line}\n`)
    },
    waitForLine: (match, timeoutMs = 20_000) =>
      waitFor(() => lines.find(match), { timeoutMs, intervalMs: 50, what: `a line from lateral ${args.join(' ')}` }),
    async stop(signal = 'SIGINT') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill(signal)
      return exit
    },
  }
}

/** Start `lateral daemon` on a home and wait for its api.json. */
export async function startTestDaemon(
  index: number,
  home: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  wrap: string[] = [],
): Promise<TestDaemon> {
  const apiPath = homePaths(home).api
  const [file, ...argv] = [...wrap, process.execPath, LATERAL_BIN, 'daemon', '--home', home, ...args] as [
    string,
    ...string[],
  ]
  const child = spawn(file, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const daemon: TestDaemon = {
    index,
    home,
    process: child,
    info: undefined as unknown as ApiInfo,
    peerId: '',
    address: '',
    stderr: '',
  }
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    daemon.stderr += chunk
  })
  child.stdout?.resume()
  let exited: number | null | undefined
  child.once('exit', (code) => {
    exited = code
  })
  try {
    daemon.info = await waitFor(
      async () => {
        if (exited !== undefined) throw new Error(`daemon ${index} exited with ${exited}: ${daemon.stderr}`)
        const info = await readApiFile(apiPath)
        // Behind a wrapper (ip netns exec) the daemon is a child of the spawned process.
        return info !== undefined && (wrap.length > 0 || info.pid === child.pid) ? info : undefined
      },
      // Generous: several daemons starting at once on two loaded cores take a while each.
      { timeoutMs: 60_000, intervalMs: 50, what: `daemon ${index} api.json` },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${daemon.stderr}`)
    })
    daemon.peerId = daemon.info.peerId
    // Inside a namespace the API's loopback is the namespace's own: ask through the CLI there.
    const id =
      wrap.length === 0
        ? await apiGet<{ addresses: string[] }>(daemon.info, '/v1/id')
        : (JSON.parse((await runCli(['id', '--json', '--home', home], { env, wrap })).stdout) as {
            addresses: string[]
          })
    daemon.address = id.addresses.find((a) => a.includes('/tcp/') && !a.includes('/ws')) ?? (id.addresses[0] as string)
  } catch (err) {
    // A daemon that did not come up is not left running: it would keep the test's process
    // alive (and its namespace busy) until the file's timeout.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    throw err
  }
  return daemon
}

export async function apiGet<T>(info: ApiInfo, path: string): Promise<T> {
  const res = await fetch(`${info.url}${path}`, { headers: { authorization: `Bearer ${info.token}` } })
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

/** Merge `settings` into a config.json (section by section), creating it if needed. */
async function mergeConfig(path: string, settings: Record<string, unknown>): Promise<void> {
  let current: Record<string, unknown> = {}
  try {
    current = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
  } catch {
    // no config.json yet
  }
  for (const [key, value] of Object.entries(settings)) {
    const before = current[key]
    current[key] =
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      typeof before === 'object' &&
      before !== null
        ? { ...(before as object), ...(value as object) }
        : value
  }
  await writeFile(path, `${JSON.stringify(current, null, 2)}\n`)
}

export async function createTestnet(size: number, init: TestnetInit = {}): Promise<Testnet> {
  const root = await mkdtemp(join(tmpdir(), 'lateral-testnet-'))
  const env: NodeJS.ProcessEnv = { ...init.env }
  const baseArgs = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns', ...(init.args ?? [])]
  const daemons: TestDaemon[] = []
  const argsFor = (i: number): string[] =>
    init.bootstrap === 'first' && i > 0 ? [...baseArgs, '--bootstrap', (daemons[0] as TestDaemon).address] : baseArgs

  const stopAll = async () => {
    await Promise.all(daemons.map((_, i) => kill(i, 'SIGTERM')))
    await rm(root, { recursive: true, force: true })
  }

  const kill = async (i: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    const child = daemons[i]?.process
    if (child === undefined) return null
    ;(daemons[i] as TestDaemon).process = undefined
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    child.kill(signal)
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    const code = await exit
    clearTimeout(timer)
    return code
  }

  try {
    for (let i = 0; i < size; i++) {
      const home = join(root, `node${i}`)
      const created = await runCli(['init', '--home', home, '--no-passphrase', '--json'], { env })
      if (created.code !== 0) throw new Error(`init ${i} failed: ${created.stderr}`)
      if (init.config !== undefined) await mergeConfig(homePaths(home).config, init.config)
      daemons.push(await startTestDaemon(i, home, argsFor(i), env))
    }
  } catch (err) {
    await stopAll()
    throw err
  }

  return {
    daemons,
    cli: (i, args, options = {}) =>
      runCli([...args, '--home', (daemons[i] as TestDaemon).home], { ...options, env: { ...env, ...options.env } }),
    spawnCli: (i, args, options = {}) =>
      spawnCli([...args, '--home', (daemons[i] as TestDaemon).home], { env, ...options }),
    api: (i, path) => apiGet((daemons[i] as TestDaemon).info, path),
    kill,
    async restart(i, options = {}) {
      await kill(i)
      const old = daemons[i] as TestDaemon
      const args = options.args === undefined ? argsFor(i) : [...baseArgs, ...options.args]
      const fresh = await startTestDaemon(i, old.home, args, env)
      daemons[i] = fresh
      return fresh
    },
    stop: stopAll,
  }
}
