/**
 * What this machine charges for the kernel work a download does, measured beside the transfer
 * benchmark so its figures can be read against the machine (bench transfer's `environment`).
 *
 * - Page-cache writes into memory freed a while ago: on a VM whose balloon reports free pages to
 *   the host, memory left free for a few seconds is handed back, and touching it again costs a
 *   host fault per page. The probe writes 1 GiB and deletes it, waits, writes it again (cold: the
 *   pages were handed back), deletes it and writes it a third time at once (warm).
 * - File creation after deletions: ext4 without a journal skips inodes deleted in the last minute
 *   when it places a new one (`recently_deleted`), so creating files right after deleting many
 *   costs a scan per file. The probe creates files in a fresh folder, deletes them, and creates
 *   them again.
 * - SHA-256 of bytes already in memory: what hashing costs without reading a file.
 *
 * System CPU is read from this process (`resourceUsage`), so the probe runs synchronously.
 */
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'

const MiB = 1024 * 1024

export interface EnvironmentProbe {
  /** System CPU seconds per GiB written into page cache after an idle spell. */
  pageCacheWriteColdSecondsPerGiB: number
  /** ...and written again at once, into the pages just freed. */
  pageCacheWriteWarmSecondsPerGiB: number
  /** CPU microseconds per file created (empty) in a fresh folder. */
  createMicrosFresh: number
  /** ...and in the same folder right after deleting as many. */
  createMicrosAfterDelete: number
  /** SHA-256 of a buffer already in memory, MiB/s. */
  sha256InMemoryMiBps: number
}

const cpuMicros = (): number => {
  const u = process.resourceUsage()
  return u.userCPUTime + u.systemCPUTime
}

/** System CPU seconds per GiB to write `bytes` into a new file, 1 MiB at a time (no fsync). */
function writeCost(path: string, bytes: number, chunk: Uint8Array): number {
  const before = process.resourceUsage().systemCPUTime
  const fd = openSync(path, 'w')
  try {
    for (let left = bytes; left > 0; left -= chunk.length) writeSync(fd, chunk)
  } finally {
    closeSync(fd)
  }
  const seconds = (process.resourceUsage().systemCPUTime - before) / 1e6
  unlinkSync(path)
  return seconds / (bytes / (1024 * MiB))
}

/** CPU microseconds per empty file created in `folder`. */
function createCost(folder: string, files: number): number {
  const before = cpuMicros()
  for (let i = 0; i < files; i++) closeSync(openSync(join(folder, `f${i}`), 'wx'))
  return (cpuMicros() - before) / files
}

export async function probeEnvironment(dir: string, options: { idleMs?: number } = {}): Promise<EnvironmentProbe> {
  const chunk = randomBytes(MiB)
  const bytes = 1024 * MiB
  writeCost(join(dir, 'probe-first.bin'), bytes, chunk)
  // Long enough for the freed memory to be reported to the host (a few seconds on these VMs).
  await new Promise((r) => setTimeout(r, options.idleMs ?? 8_000))
  const cold = writeCost(join(dir, 'probe-cold.bin'), bytes, chunk)
  const warm = writeCost(join(dir, 'probe-warm.bin'), bytes, chunk)

  const folder = join(dir, 'probe-create')
  mkdirSync(folder, { recursive: true })
  const files = 2000
  const fresh = createCost(folder, files)
  for (let i = 0; i < files; i++) unlinkSync(join(folder, `f${i}`))
  const afterDelete = createCost(folder, files)
  rmSync(folder, { recursive: true, force: true })

  const buffer = randomBytes(64 * MiB)
  const t0 = performance.now()
  for (let i = 0; i < 8; i++) createHash('sha256').update(buffer).digest()
  const sha = (8 * 64) / ((performance.now() - t0) / 1000)

  return {
    pageCacheWriteColdSecondsPerGiB: Number(cold.toFixed(2)),
    pageCacheWriteWarmSecondsPerGiB: Number(warm.toFixed(2)),
    createMicrosFresh: Math.round(fresh),
    createMicrosAfterDelete: Math.round(afterDelete),
    sha256InMemoryMiBps: Math.round(sha),
  }
}
