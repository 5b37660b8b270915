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
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { exporter, type ReadableStorage, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import type { AbortOptions } from '../core/abort.ts'
import { DEFAULT_EXPORT_READ_AHEAD } from '../core/constants.ts'
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
  await pipeline(fileContent(entry, reader, options), createWriteStream(path, { mode: 0o644 }), options)
}

/**
 * A file's bytes in order, read at most `readAhead` blocks ahead of the consumer on each level
 * of its DAG, so memory is bounded whatever the file's size. (The exporter's own `content()`
 * reads every child of a node at once and queues what it read without waiting for the
 * consumer: a 1 GiB file written to a slower disk took over 1 GiB of memory.) The total must
 * match the size the root declares.
 */
export async function* fileContent(
  entry: UnixFSEntry,
  reader: ReadableStorage,
  options: AbortOptions & { readAhead?: number } = {},
): AsyncGenerator<Uint8Array> {
  if (entry.type !== 'file') {
    // A raw or identity block, a single block: bounded by the block size.
    if (entry.type === 'raw' || entry.type === 'identity') yield* entry.content(options)
    else throw new InvalidInputError(`${entry.cid} is not a UnixFS file`)
    return
  }
  const expected = entry.unixfs.fileSize()
  const readAhead = Math.max(1, options.readAhead ?? DEFAULT_EXPORT_READ_AHEAD)
  let sent = 0n
  for await (const bytes of walkFile(entry.node, entry.unixfs, reader, readAhead, options)) {
    sent += BigInt(bytes.length)
    if (sent > expected) throw new InvalidInputError(`${entry.cid} holds more bytes than the ${expected} it declares`)
    if (bytes.length > 0) yield bytes
  }
  if (sent !== expected)
    throw new InvalidInputError(`${entry.cid} holds ${sent} bytes, not the ${expected} it declares`)
}

async function* walkFile(
  node: dagPb.PBNode,
  unixfs: UnixFS,
  reader: ReadableStorage,
  readAhead: number,
  options: AbortOptions,
): AsyncGenerator<Uint8Array> {
  if (unixfs.data !== undefined && unixfs.data.length > 0) yield unixfs.data
  const links = node.Links
  const pending: Array<Promise<Uint8Array>> = []
  let next = 0
  const fill = () => {
    while (next < links.length && pending.length < readAhead) {
      const read = readBlock(reader, (links[next] as dagPb.PBLink).Hash, options)
      read.catch(() => {}) // awaited in order below; a read failing ahead of its turn is not unhandled
      pending.push(read)
      next++
    }
  }
  for (let i = 0; i < links.length; i++) {
    fill()
    const block = await (pending.shift() as Promise<Uint8Array>)
    const cid = (links[i] as dagPb.PBLink).Hash
    if (cid.code === raw.code) {
      yield block
    } else if (cid.code === dagPb.code) {
      const child = dagPb.decode(block)
      let data: UnixFS
      try {
        data = UnixFS.unmarshal(child.Data ?? new Uint8Array())
      } catch (err) {
        throw new InvalidInputError(`${cid} is not a UnixFS node: ${(err as Error).message}`)
      }
      if (data.type !== 'file' && data.type !== 'raw')
        throw new InvalidInputError(`${cid} is a ${data.type}, not part of a file`)
      yield* walkFile(child, data, reader, readAhead, options)
    } else {
      throw new InvalidInputError(`${cid} has codec ${cid.code}, which a UnixFS file cannot hold`)
    }
  }
}

async function readBlock(reader: ReadableStorage, cid: CID, options: AbortOptions): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const chunk of reader.get(cid, options)) parts.push(chunk)
  return parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts)
}

export async function assertAbsent(path: string): Promise<void> {
  const exists = await lstat(path).then(
    () => true,
    () => false,
  )
  if (exists) throw new AlreadyExistsError(`${path} already exists: choose another output path or remove it`)
}
