/**
 * `api.json` in the home (mode 0600): where the daemon's API listens and its bearer token.
 * Written once the daemon is ready, so scripts can wait for the file; removed when it stops.
 */
import { randomBytes } from 'node:crypto'
import { chmod, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { DaemonRunningError } from '../core/errors.ts'
import { homePaths } from '../core/home.ts'

export interface ApiInfo {
  /** Base URL, e.g. `http://127.0.0.1:5980`. */
  url: string
  host: string
  port: number
  /** Bearer token required by every route but `/health`. */
  token: string
  pid: number
  peerId: string
  startedAt: number
}

export async function writeApiFile(path: string, info: ApiInfo): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 })
  await rename(tmp, path)
}

export async function readApiFile(path: string): Promise<ApiInfo | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    const info = JSON.parse(text) as ApiInfo
    if (typeof info.url !== 'string' || typeof info.token !== 'string') return undefined
    return info
  } catch {
    return undefined
  }
}

/** Remove the file if it still describes the daemon with this pid. */
export async function removeApiFile(path: string, pid = process.pid): Promise<void> {
  const info = await readApiFile(path)
  if (info !== undefined && info.pid !== pid) return
  await unlink(path).catch(() => {})
}

/** Whether a process with this pid exists (signal 0 probes without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Refuse to start when api.json names a live daemon for this home. */
export async function assertNoDaemon(home: string): Promise<void> {
  const info = await readApiFile(homePaths(home).api)
  if (info === undefined || !processAlive(info.pid)) return
  try {
    const res = await fetch(`${info.url}/health`, { signal: AbortSignal.timeout(2000) })
    if (res.ok) {
      throw new DaemonRunningError(`a daemon is already running for ${home} (pid ${info.pid}, API ${info.url})`)
    }
  } catch (err) {
    if (err instanceof DaemonRunningError) throw err
  }
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/

/**
 * The daemon's API token: read from `api-token` in the home, or made and written there (0600).
 * It outlives restarts so an open dashboard and scripts keep working; delete the file to rotate it.
 */
export async function loadOrCreateToken(path: string): Promise<string> {
  try {
    const token = (await readFile(path, 'utf8')).trim()
    if (TOKEN_PATTERN.test(token)) {
      await chmod(path, 0o600)
      return token
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = randomBytes(32).toString('base64url')
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, `${token}\n`, { mode: 0o600 })
  await rename(tmp, path)
  return token
}
