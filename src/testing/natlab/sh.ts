/** Running `ip`, `nft` and helpers for the NAT lab, with the failing command in the error. */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

export async function sh(file: string, ...args: string[]): Promise<string> {
  try {
    return (await run(file, args, { timeout: 20_000 })).stdout
  } catch (err) {
    const e = err as Error & { stderr?: string }
    throw new Error(`${file} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`)
  }
}

/** Run a command inside namespace `ns`. */
export function inNs(ns: string, file: string, ...args: string[]): Promise<string> {
  return sh('ip', 'netns', 'exec', ns, file, ...args)
}

/** Apply an nftables ruleset inside namespace `ns` (from stdin, via a here-string file). */
export async function nft(ns: string, ruleset: string): Promise<void> {
  const { spawn } = await import('node:child_process')
  await new Promise<void>((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nft in ${ns}: ${stderr.trim()}`))))
    child.stdin.end(ruleset)
  })
}
