/**
 * `npm run bench -- transfer-profile [--size MiB] [--rounds N] [--out FILE.md]`
 *
 * Where the downloader's CPU goes during `get` from one seeder: the downloader daemon runs with
 * V8's sampling profiler (`--cpu-prof`), the file is fetched `--rounds` times (blocks collected
 * between rounds), and the profile is summarised as the functions with the most self time and
 * the share of garbage collection. The summary is written as Markdown (bench/results/ by default).
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runCli, startTestDaemon, type TestDaemon } from '../src/testing/testnet.ts'
import { cpuSeconds, mainThreadCpuSeconds, threadCpuSeconds, threadCpuSince } from './lib/proc.ts'

const here = dirname(fileURLToPath(import.meta.url))
const repo = join(here, '..')
const MiB = 1024 * 1024

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

async function writeRandomFile(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path)
  for (let left = bytes; left > 0; left -= 4 * MiB) {
    if (!out.write(randomBytes(Math.min(4 * MiB, left)))) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
}

async function api<T>(d: TestDaemon, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${d.info.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${d.info.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  })
  const json = (await res.json()) as T
  if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json)}`)
  return json
}

/** Where a function lives, short: a package name or a path in this repository. */
function place(url: string, line: number): string {
  if (url === '') return ''
  const path = url.replace(/^file:\/\//, '')
  const nm = path.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = path.slice(nm + 'node_modules/'.length).split('/')
    const pkg = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
    return `${pkg} ${rest.slice(pkg?.startsWith('@') ? 2 : 1).join('/')}:${line + 1}`
  }
  if (path.startsWith('node:')) return path
  return `${relative(repo, path)}:${line + 1}`
}

/** Self time per function (ms) and the total sampled time. */
export function summarise(
  profile: CpuProfile,
  fromUs = 0,
  toUs = Number.POSITIVE_INFINITY,
): { totalMs: number; rows: Array<{ name: string; ms: number }> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  let totalMs = 0
  let at = profile.startTime
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0
    at += delta
    if (at < fromUs || at > toUs) return
    const ms = delta / 1000
    const node = byId.get(id)
    if (node === undefined) return
    const f = node.callFrame
    const where = place(f.url, f.lineNumber)
    const key = `${f.functionName || '(anonymous)'}${where === '' ? '' : ` (${where})`}`
    self.set(key, (self.get(key) ?? 0) + ms)
    totalMs += ms
  })
  const rows = [...self].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms)
  return { totalMs, rows }
}

export async function benchTransferProfile(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      size: { type: 'string', default: '256' },
      rounds: { type: 'string', default: '2' },
      out: { type: 'string', default: join(here, 'results', 'transfer-profile.md') },
      title: { type: 'string', default: 'Downloader profile' },
      keep: { type: 'boolean', default: false },
      /** JSON merged into the downloader's config.json, section by section (to compare settings). */
      'downloader-config': { type: 'string' },
    },
  })
  const size = Number(values.size) * MiB
  const rounds = Number(values.rounds)
  const dir = mkdtempSync(join(tmpdir(), 'lateral-bench-profile-'))
  const profDir = join(dir, 'prof')
  mkdirSync(profDir)
  const file = join(dir, 'file.bin')
  await writeRandomFile(file, size)
  const base = ['--listen', '/ip4/127.0.0.1/tcp/0', '--api', '127.0.0.1:0', '--no-mdns']
  const daemons: TestDaemon[] = []
  try {
    for (const name of ['seeder', 'downloader']) {
      const home = join(dir, name)
      const created = await runCli(['init', '--home', home, '--no-passphrase', '--json'])
      if (created.code !== 0) throw new Error(`init failed: ${created.stderr}`)
    }
    if (values['downloader-config'] !== undefined) {
      const path = join(dir, 'downloader', 'config.json')
      let config: Record<string, Record<string, unknown>> = {}
      try {
        config = JSON.parse(readFileSync(path, 'utf8'))
      } catch {
        // no config.json yet: the settings alone
      }
      const extra = JSON.parse(values['downloader-config']) as Record<string, Record<string, unknown>>
      for (const [section, settings] of Object.entries(extra)) config[section] = { ...config[section], ...settings }
      writeFileSync(path, JSON.stringify(config, null, 2))
    }
    mkdirSync(join(profDir, 'seeder'))
    const seeder = await startTestDaemon(0, join(dir, 'seeder'), base, {
      NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(profDir, 'seeder')}`,
    })
    daemons.push(seeder)
    const downloader = await startTestDaemon(1, join(dir, 'downloader'), [...base, '--bootstrap', seeder.address], {
      NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profDir}`,
    })
    daemons.push(downloader)
    const cid = (await api<{ result: { cid: string } }>(seeder, 'POST', '/v1/content', { path: file, wait: true }))
      .result.cid
    const pid = downloader.process?.pid as number
    const seederPid = seeder.process?.pid as number
    const cpu0 = cpuSeconds(pid)
    const main0 = mainThreadCpuSeconds(pid)
    const threads0 = threadCpuSeconds(pid)
    const seederThreads0 = threadCpuSeconds(seederPid)
    const seederCpu0 = cpuSeconds(seederPid)
    // V8 stamps samples with the monotonic clock, as hrtime does: keep only the rounds.
    const fromUs = Number(process.hrtime.bigint() / 1000n)
    const t0 = performance.now()
    for (let r = 0; r < rounds; r++) {
      await api(downloader, 'POST', `/v1/content/${cid}/get`, { wait: true, pin: false })
      await api(downloader, 'POST', '/v1/gc')
    }
    const seconds = (performance.now() - t0) / 1000
    const cpu = cpuSeconds(pid) - cpu0
    const mainCpu = mainThreadCpuSeconds(pid) - main0
    const threads = Object.entries(threadCpuSince(pid, threads0))
    const seederCpu = cpuSeconds(seederPid) - seederCpu0
    const seederThreads = Object.entries(threadCpuSince(seederPid, seederThreads0))
    const toUs = Number(process.hrtime.bigint() / 1000n)
    for (const d of [downloader, seeder]) {
      const exit = new Promise((r) => d.process?.once('exit', r))
      d.process?.kill('SIGTERM')
      await exit
    }
    const name = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'))
    if (name === undefined) throw new Error('the downloader wrote no profile')
    const profile = JSON.parse(readFileSync(join(profDir, name), 'utf8')) as CpuProfile
    const { totalMs, rows } = summarise(profile, fromUs, toUs)
    const seederName = readdirSync(join(profDir, 'seeder')).find((f) => f.endsWith('.cpuprofile'))
    const seederRows =
      seederName === undefined
        ? []
        : summarise(
            JSON.parse(readFileSync(join(profDir, 'seeder', seederName), 'utf8')) as CpuProfile,
            fromUs,
            toUs,
          ).rows.filter((r) => r.name !== '(idle)')
    const busyMs = totalMs - rows.filter((r) => r.name === '(idle)').reduce((n, r) => n + r.ms, 0)
    const gcMs = rows.find((r) => r.name === '(garbage collector)')?.ms ?? 0
    const gib = (size * rounds) / (1024 * MiB)
    const lines = [
      `# ${values.title}`,
      '',
      `${new Date().toISOString()}, Node ${process.version}: \`get\` of ${values.size} MiB from one seeder daemon,`,
      `${rounds} rounds, downloader and seeder daemons under \`--cpu-prof\`; samples taken during the rounds only.`,
      '',
      `- wall time of the rounds: ${seconds.toFixed(2)} s (${((size * rounds) / MiB / seconds).toFixed(0)} MiB/s, slowed by the profiler)`,
      `- downloader CPU in the rounds (/proc): ${cpu.toFixed(2)} s = ${(cpu / gib).toFixed(2)} CPU-s per GiB`,
      `- of which the downloader's main thread (event loop): ${mainCpu.toFixed(2)} s = ${(mainCpu / gib).toFixed(2)} CPU-s per GiB`,
      `- downloader CPU by thread: ${threads.map(([name, s]) => `${name} ${s.toFixed(2)} s`).join(', ')}`,
      `- seeder CPU in the rounds (/proc): ${seederCpu.toFixed(2)} s = ${(seederCpu / gib).toFixed(2)} CPU-s per GiB`,
      `- seeder CPU by thread: ${seederThreads.map(([name, s]) => `${name} ${s.toFixed(2)} s`).join(', ')}`,
      `- sampled non-idle time (main thread): ${(busyMs / 1000).toFixed(2)} s; garbage collector ${(gcMs / 1000).toFixed(2)} s = ${((100 * gcMs) / busyMs).toFixed(1)}% of it`,
      '',
      '| self ms | % of busy | function |',
      '|---:|---:|---|',
      ...rows
        .filter((r) => r.name !== '(idle)')
        .slice(0, 30)
        .map(
          (r) => `| ${r.ms.toFixed(0)} | ${((100 * r.ms) / busyMs).toFixed(1)} | ${r.name.replaceAll('|', '\\|')} |`,
        ),
      '',
      '## Seeder, top self time',
      '',
      '| self ms | function |',
      '|---:|---|',
      ...seederRows.slice(0, 15).map((r) => `| ${r.ms.toFixed(0)} | ${r.name.replaceAll('|', '\\|')} |`),
      '',
    ]
    mkdirSync(dirname(values.out), { recursive: true })
    writeFileSync(values.out, lines.join('\n'))
    console.error(lines.slice(0, 13).join('\n'))
    console.error(`written ${values.out}`)
  } finally {
    await Promise.all(
      daemons.map(async (d) => {
        const child = d.process
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
        const exit = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await exit
      }),
    )
    if (values.keep === true) console.error(`profiles kept in ${profDir}`)
    else rmSync(dir, { recursive: true, force: true })
  }
}
