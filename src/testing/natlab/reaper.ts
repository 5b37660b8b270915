/**
 * Nothing of a NAT lab outlives its owner. Each lab writes an owner record (the owning process's
 * PID and kernel start time, the namespaces it made, its temporary folder) under OWNERS_DIR and
 * keeps it current; `reapStaleLabs()`, run at every lab start, finds records whose owner is gone
 * (a test file killed by the runner's timeout never reaches its `after` hooks) and ends every
 * process still inside their namespaces, deletes the namespaces and the folder. Only namespaces
 * named in a record are touched, never one made by something else.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Where labs record their owners (the lab needs root, so /run is writable). */
export const OWNERS_DIR = '/run/lateral-natlab'

export interface OwnerRecord {
  pid: number
  /** The owner's start time in clock ticks since boot (/proc/PID/stat field 22): PIDs are reused. */
  start: string
  namespaces: string[]
  /** veth ends made in the machine's own namespace before being moved into a lab namespace. */
  links: string[]
  dir: string
}

/** A process's start time, or undefined when there is no such process. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
  } catch {
    return undefined
  }
}

function recordPath(prefix: string): string {
  return join(OWNERS_DIR, `${prefix}.json`)
}

/** Write (or rewrite) the record of lab `prefix`, owned by this process. Synchronous: it must be on disk before the next namespace is made. */
export function writeOwnerRecord(prefix: string, record: Omit<OwnerRecord, 'pid' | 'start'>): void {
  mkdirSync(OWNERS_DIR, { recursive: true })
  const full: OwnerRecord = { pid: process.pid, start: processStart(process.pid) ?? '', ...record }
  const path = recordPath(prefix)
  writeFileSync(`${path}.tmp`, JSON.stringify(full))
  renameSync(`${path}.tmp`, path)
}

export function removeOwnerRecord(prefix: string): void {
  rmSync(recordPath(prefix), { force: true })
}

/** End every process inside the namespaces (SIGKILL by PID), delete them, the links left outside and the folder. */
export function destroyNamespacesSync(namespaces: string[], dir?: string, links: string[] = []): void {
  for (const ns of namespaces) {
    let pids: string[] = []
    try {
      pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', timeout: 10_000 }).split('\n')
    } catch {
      continue // gone already
    }
    for (const pid of pids.map(Number).filter((p) => Number.isInteger(p) && p > 1 && p !== process.pid)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
  }
  for (const ns of [...namespaces].reverse()) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 })
    } catch {}
  }
  // A veth end still in the machine's namespace (the owner died before moving it); moved ones are gone with their namespace.
  for (const link of links) {
    try {
      execFileSync('ip', ['link', 'del', link], { stdio: 'ignore', timeout: 10_000 })
    } catch {}
  }
  if (dir !== undefined && dir !== '') rmSync(dir, { recursive: true, force: true })
}

/** Clean every lab whose owner is gone; returns the prefixes cleaned. */
export function reapStaleLabs(): string[] {
  let files: string[]
  try {
    files = readdirSync(OWNERS_DIR).filter((f) => f.endsWith('.json'))
  } catch {
    return []
  }
  const reaped: string[] = []
  for (const file of files) {
    const path = join(OWNERS_DIR, file)
    let record: OwnerRecord
    try {
      record = JSON.parse(readFileSync(path, 'utf8')) as OwnerRecord
    } catch {
      rmSync(path, { force: true })
      continue
    }
    const alive = processStart(record.pid)
    if (alive !== undefined && alive === record.start) continue
    destroyNamespacesSync(record.namespaces, record.dir, record.links ?? [])
    rmSync(path, { force: true })
    reaped.push(file.slice(0, -'.json'.length))
  }
  return reaped
}
