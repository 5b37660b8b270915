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
  return dagSize(entry.cid, await readBlock(reader, entry.cid, {})) ?? Number(entry.size)
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
 * A file's bytes in order, with at most `readAhead` blocks read ahead of the consumer across the
 * whole DAG (one more per level may be in flight: the next one needed there), so memory is
 * bounded whatever the file's size or shape. (The exporter's own `content()` reads every child
 * of a node at once and queues what it read without waiting for the consumer: a 1 GiB file
 * written to a slower disk took over 1 GiB of memory.) Each child must hold exactly the bytes
 * its parent declares for it (children declared empty are not read), and the DAG at most
 * MAX_FILE_DEPTH levels deep: a hostile DAG cannot make a read cost more than its honest size.
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
  const walk: Walk = {
    reader,
    options,
    spare: Math.max(0, (options.readAhead ?? DEFAULT_EXPORT_READ_AHEAD) - 1),
  }
  yield* sized(walkFile(entry.cid, entry.node, entry.unixfs, walk, 0), entry.unixfs.fileSize(), entry.cid)
}

/** Files deeper than this are refused: a balanced DAG of 174 links per node holds 2^59 bytes in 8 levels. */
export const MAX_FILE_DEPTH = 32

interface Walk {
  reader: ReadableStorage
  options: AbortOptions
  /** Reads that may still start ahead of where some level needs the next block. */
  spare: number
}

/** The bytes of `source`, which must come to exactly `expected`. */
async function* sized(source: AsyncGenerator<Uint8Array>, expected: bigint, cid: CID): AsyncGenerator<Uint8Array> {
  let got = 0n
  for await (const bytes of source) {
    got += BigInt(bytes.length)
    if (got > expected) throw new InvalidInputError(`${cid} holds more than the ${expected} bytes declared for it`)
    if (bytes.length > 0) yield bytes
  }
  if (got !== expected) throw new InvalidInputError(`${cid} holds ${got} bytes, not the ${expected} declared for it`)
}

async function* walkFile(
  cid: CID,
  node: dagPb.PBNode,
  unixfs: UnixFS,
  walk: Walk,
  depth: number,
): AsyncGenerator<Uint8Array> {
  if (depth > MAX_FILE_DEPTH) throw new InvalidInputError(`${cid} is deeper than ${MAX_FILE_DEPTH} levels`)
  if (unixfs.data !== undefined && unixfs.data.length > 0) yield unixfs.data
  const links = node.Links
  if (links.length !== unixfs.blockSizes.length)
    throw new InvalidInputError(`${cid} has ${links.length} links but ${unixfs.blockSizes.length} block sizes`)
  // Reads started at this level, in order; those started ahead hold one of the walk's spares.
  const pending: Array<{ index: number; read: Promise<Uint8Array>; spare: boolean }> = []
  let next = 0
  const fill = () => {
    while (next < links.length) {
      if ((unixfs.blockSizes[next] as bigint) === 0n) {
        next++ // declared empty: nothing to read
        continue
      }
      const spare = pending.length > 0
      if (spare && walk.spare === 0) return
      if (spare) walk.spare--
      const read = readBlock(walk.reader, (links[next] as dagPb.PBLink).Hash, walk.options)
      read.catch(() => {}) // awaited in order below; a read failing ahead of its turn is not unhandled
      pending.push({ index: next, read, spare })
      next++
    }
  }
  try {
    for (;;) {
      fill()
      const turn = pending.shift()
      if (turn === undefined) return
      if (turn.spare) walk.spare++
      const block = await turn.read
      const link = links[turn.index] as dagPb.PBLink
      const declared = unixfs.blockSizes[turn.index] as bigint
      if (link.Hash.code === raw.code) {
        if (BigInt(block.length) !== declared)
          throw new InvalidInputError(`${link.Hash} holds ${block.length} bytes, not the ${declared} declared for it`)
        yield block
      } else if (link.Hash.code === dagPb.code) {
        const child = dagPb.decode(block)
        let data: UnixFS
        try {
          data = UnixFS.unmarshal(child.Data ?? new Uint8Array())
        } catch (err) {
          throw new InvalidInputError(`${link.Hash} is not a UnixFS node: ${(err as Error).message}`)
        }
        if (data.type !== 'file' && data.type !== 'raw')
          throw new InvalidInputError(`${link.Hash} is a ${data.type}, not part of a file`)
        yield* sized(walkFile(link.Hash, child, data, walk, depth + 1), declared, link.Hash)
      } else {
        throw new InvalidInputError(`${link.Hash} has codec ${link.Hash.code}, which a UnixFS file cannot hold`)
      }
    }
  } finally {
    // Stopped early (an error, or the consumer left): give back the spares still held.
    for (const p of pending) if (p.spare) walk.spare++
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
