/**
 * Export: UnixFS entries read back as files and folders on disk (written under a temporary
 * name and renamed at the end, so nothing appears unless it completes), as folder listings with
 * sizes, and as the kinds the API shows.
 */
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { lstat, mkdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { exporter, type ReadableStorage, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import type { AbortOptions } from '../core/abort.ts'
import { AlreadyExistsError, InvalidInputError } from '../core/errors.ts'
import { dagSize } from './dag.ts'

export interface FolderEntry {
  name: string
  cid: string
  type: 'file' | 'directory' | 'other'
  size: number
}

export function kind(entry: UnixFSEntry): FolderEntry['type'] {
  if (entry.type === 'directory') return 'directory'
  // A small file with raw leaves is a single raw block: still a file to the user.
  if (entry.type === 'file' || entry.type === 'raw' || entry.type === 'identity') return 'file'
  return 'other'
}

/** A file's size, or a folder's total (its DAG's cumulative size, as `ipfs ls` shows it). */
export async function entrySize(entry: UnixFSEntry, reader: ReadableStorage): Promise<number> {
  if (entry.type !== 'directory') return Number(entry.size)
  const parts: Uint8Array[] = []
  for await (const chunk of reader.get(entry.cid)) parts.push(chunk)
  return dagSize(entry.cid, parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts)) ?? Number(entry.size)
}

/** A folder's entries with their kinds and sizes (each entry's root block read through `reader`). */
export async function listFolder(
  folder: UnixFSEntry,
  reader: ReadableStorage,
  options: AbortOptions = {},
): Promise<FolderEntry[]> {
  if (folder.type !== 'directory') {
    return [{ name: folder.name, cid: folder.cid.toString(), type: kind(folder), size: Number(folder.size) }]
  }
  const out: FolderEntry[] = []
  for await (const child of folder.entries(options)) {
    const sub = await exporter(child.cid, reader, options)
    out.push({ name: child.name, cid: child.cid.toString(), type: kind(sub), size: await entrySize(sub, reader) })
  }
  return out
}

/** Write an entry to `output` atomically: under a temporary name, renamed once complete. */
export async function exportTo(
  entry: UnixFSEntry,
  output: string,
  reader: ReadableStorage,
  options: AbortOptions = {},
): Promise<void> {
  await assertAbsent(output)
  const partial = join(dirname(output), `.${basename(output)}.lateral-partial-${randomBytes(4).toString('hex')}`)
  try {
    await write(entry, partial, reader, options)
    await assertAbsent(output)
    await rename(partial, output)
  } catch (err) {
    await rm(partial, { recursive: true, force: true })
    throw err
  }
}

async function write(entry: UnixFSEntry, path: string, reader: ReadableStorage, options: AbortOptions): Promise<void> {
  if (entry.type === 'directory') {
    await mkdir(path, { mode: 0o755 })
    for await (const child of entry.entries(options)) {
      if (child.name.includes('/') || child.name === '..' || child.name === '.' || child.name === '')
        throw new InvalidInputError(`refusing folder entry named ${JSON.stringify(child.name)}`)
      await write(await exporter(child.cid, reader, options), join(path, child.name), reader, options)
    }
    return
  }
  if (entry.type === 'object') throw new InvalidInputError(`${entry.cid} is not a UnixFS file or folder`)
  await pipeline(entry.content(options), createWriteStream(path, { mode: 0o644 }), options)
}

export async function assertAbsent(path: string): Promise<void> {
  const exists = await lstat(path).then(
    () => true,
    () => false,
  )
  if (exists) throw new AlreadyExistsError(`${path} already exists: choose another output path or remove it`)
}
