/**
 * aria2c (a C++ BitTorrent client, Debian package `aria2`) moving one file between two of its
 * processes on 127.0.0.1, as the transfer benchmark's seventh variant: a .torrent made here
 * (1 MiB pieces, like Lateral's chunks), the tiny tracker of bt-tracker.ts, DHT, local peer
 * discovery and peer exchange off. The seeder checks the file (-V) and announces before the
 * clock starts. aria2c works in one-second ticks (tracker, connect, handshake, exit each wait
 * for one), which would put 2-3 s of waiting into a transfer of a second or two: the time
 * reported is the receiver's transfer window, from its first byte on disk to its last (the
 * output file's allocated blocks, polled every 20 ms), with the whole process life beside it.
 * Its CPU and peak RSS are read from /proc while it runs.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { makeTorrent, startTracker } from './bt-tracker.ts'
import { cpuSeconds, peakRssMiB } from './proc.ts'

const PIECE = 1024 * 1024

export function aria2Installed(): boolean {
  try {
    execFileSync('aria2c', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const COMMON = [
  '--enable-dht=false',
  '--enable-dht6=false',
  '--bt-enable-lpd=false',
  '--enable-peer-exchange=false',
  '--bt-require-crypto=false',
  '--disable-ipv6=true',
  '--console-log-level=error',
  '--summary-interval=0',
  '--download-result=hide',
  '--file-allocation=none',
  '--max-overall-upload-limit=0',
  '--max-overall-download-limit=0',
]

interface Watched {
  cpu: number
  rss: number
  /** performance.now() of the first poll that saw data on disk, and of the first that saw all of it. */
  firstByte?: number
  lastByte?: number
}

/** Poll /proc and the output file until the process exits. */
function watch(child: ChildProcess, output: string, size: number): { seen: Watched; stop: () => void } {
  const seen: Watched = { cpu: 0, rss: 0 }
  const pid = child.pid as number
  const timer = setInterval(() => {
    const now = performance.now()
    try {
      seen.cpu = cpuSeconds(pid)
      const rss = peakRssMiB(pid)
      if (Number.isFinite(rss)) seen.rss = Math.max(seen.rss, rss)
    } catch {
      // exited
    }
    try {
      const onDisk = statSync(output).blocks * 512
      if (onDisk > 0) seen.firstByte ??= now
      if (onDisk >= size) seen.lastByte ??= now
    } catch {
      // not created yet
    }
  }, 20)
  return { seen, stop: () => clearInterval(timer) }
}

export async function runAria2(file: string): Promise<{
  seconds: number
  processSeconds: number
  processes: Array<{ role: string; cpuSeconds: number; peakRssMiB: number }>
}> {
  const dir = mkdtempSync(join(tmpdir(), 'lateral-anchor-aria2-'))
  const tracker = await startTracker()
  let seeder: ChildProcess | undefined
  try {
    const { torrent, infoHash } = await makeTorrent(file, tracker.url, PIECE)
    const torrentPath = join(dir, 'file.torrent')
    writeFileSync(torrentPath, torrent)
    seeder = spawn(
      'aria2c',
      [...COMMON, '-V', '--seed-ratio=0.0', `--dir=${dirname(file)}`, '--listen-port=6881-6999', torrentPath],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    )
    await tracker.seeded(infoHash)
    const seederCpu0 = cpuSeconds(seeder.pid as number)
    const out = join(dir, 'out')
    const t0 = performance.now()
    const receiver = spawn(
      'aria2c',
      [...COMMON, '--seed-time=0', `--dir=${out}`, '--listen-port=7000-7100', torrentPath],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    )
    const output = join(out, basename(file))
    const size = statSync(file).size
    const watched = watch(receiver, output, size)
    const code = await new Promise<number | null>((resolve) => receiver.once('exit', (c) => resolve(c)))
    const exitedAt = performance.now()
    watched.stop()
    if (code !== 0) throw new Error(`aria2c receiver exited with ${code}`)
    if (statSync(output).size !== size) throw new Error('aria2c did not receive the whole file')
    const { firstByte, lastByte, cpu, rss } = watched.seen
    const seederPid = seeder.pid as number
    return {
      seconds: ((lastByte ?? exitedAt) - (firstByte ?? t0)) / 1000,
      processSeconds: (exitedAt - t0) / 1000,
      processes: [
        {
          role: 'sender',
          cpuSeconds: Number((cpuSeconds(seederPid) - seederCpu0).toFixed(2)),
          peakRssMiB: Math.round(peakRssMiB(seederPid)),
        },
        { role: 'receiver', cpuSeconds: Number(cpu.toFixed(2)), peakRssMiB: Math.round(rss) },
      ],
    }
  } finally {
    if (seeder !== undefined && seeder.exitCode === null) {
      const exit = new Promise((r) => seeder?.once('exit', r))
      seeder.kill('SIGTERM')
      await exit
    }
    await tracker.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
