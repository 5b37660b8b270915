/**
 * Run one outside client (Helia or WebTorrent) as a sender and a receiver process moving a file
 * on 127.0.0.1. Installs the anchors' own dependencies on first use (`npm install
 * --ignore-scripts` in bench/anchors/, never in Lateral's tree) and stubs the WebRTC module.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

interface Report {
  role: string
  cpuSeconds: number
  peakRssMiB: number
  seconds?: number
  bytes?: number
}

function install(): void {
  if (existsSync(join(here, 'node_modules', 'helia')) && existsSync(join(here, 'node_modules', 'webtorrent'))) return
  console.error('  installing the anchor clients (Helia, WebTorrent) in bench/anchors ...')
  // ip-set's install script fails here, and the WebRTC binaries cannot be downloaded.
  execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' })
  execFileSync(process.execPath, [join(here, 'stub-webrtc.mjs')], { stdio: 'inherit' })
}

export async function runAnchor(
  name: 'helia' | 'webtorrent',
  file: string,
): Promise<{ seconds: number; processes: Array<{ role: string; cpuSeconds: number; peakRssMiB: number }> }> {
  install()
  const script = join(here, `${name}-peer.mjs`)
  const out = mkdtempSync(join(tmpdir(), `lateral-anchor-${name}-`))
  const sender = spawn(process.execPath, [script, 'send', file], { stdio: ['pipe', 'pipe', 'inherit'] })
  const senderLines = createInterface({ input: sender.stdout })[Symbol.asyncIterator]()
  try {
    const hello = (await senderLines.next()).value as string
    const receiver = spawn(process.execPath, [script, 'recv', out], { stdio: ['pipe', 'pipe', 'inherit'] })
    receiver.stdin.end(`${hello}\n`)
    const line = (await createInterface({ input: receiver.stdout })[Symbol.asyncIterator]().next()).value as string
    const recv = JSON.parse(line) as Report
    sender.stdin.end()
    const send = JSON.parse((await senderLines.next()).value as string) as Report
    return {
      seconds: recv.seconds as number,
      processes: [
        { role: 'sender', cpuSeconds: Number(send.cpuSeconds.toFixed(2)), peakRssMiB: Math.round(send.peakRssMiB) },
        { role: 'receiver', cpuSeconds: Number(recv.cpuSeconds.toFixed(2)), peakRssMiB: Math.round(recv.peakRssMiB) },
      ],
    }
  } finally {
    if (sender.exitCode === null) sender.kill()
    rmSync(out, { recursive: true, force: true })
  }
}
