/**
 * The content service's local half: import files and folders into UnixFS DAGs in the
 * blockstore, export them, list folders, pin, and garbage-collect what no pin needs.
 *
 * @example
 * ```ts
 * const { cid } = await node.content.addPath('./photos', { onProgress: (e) => console.log(e.bytes) })
 * for await (const chunk of node.content.cat(cid)) process.stdout.write(chunk)
 * ```
 */
import * as cbor from '@ipld/dag-cbor'
import { BlackHoleBlockstore } from 'blockstore-core'
import { Key } from 'interface-datastore'
import { exporter, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import { importer } from 'ipfs-unixfs-importer'
import type { CID } from 'multiformats/cid'
import type { ProgressOptions } from '../core/abort.ts'
import { InvalidInputError, NotFoundError } from '../core/errors.ts'
import type { Datastore } from '../store/datastore.ts'
import type { FsBlockstore } from '../store/index.ts'
import { linksOf, parseCid as parse } from './dag.ts'
import { type AddOptions, importerOptions } from './import-options.ts'
import { type Candidate, localCandidates, totalSize } from './local-source.ts'

export interface AddProgress {
  /** Bytes read from the source so far. */
  bytes: number
  /** Total bytes, when known before reading. */
  total?: number
  /** The file being read. */
  path: string
}

export interface AddedEntry {
  path: string
  cid: string
  size: number
}

export interface AddResult {
  cid: string
  size: number
  entries: AddedEntry[]
}

export interface FolderEntry {
  name: string
  cid: string
  type: 'file' | 'directory' | 'other'
  size: number
}

export interface Pin {
  cid: string
  addedAt: number
}

export interface ContentComponents {
  blockstore: FsBlockstore
  datastore: Datastore
}

const PINS = '/lateral/pins/'

export class Content {
  readonly #c: ContentComponents

  constructor(components: ContentComponents) {
    this.#c = components
  }

  /** Import a file or folder from disk; the root is pinned unless `onlyHash`. */
  async addPath(path: string, options: AddOptions & ProgressOptions<AddProgress> = {}): Promise<AddResult> {
    const total = options.onProgress === undefined ? undefined : await totalSize(path)
    return this.add(localCandidates(path), { ...options, ...(total === undefined ? {} : { total }) })
  }

  /** Import candidates (paths with content); the last entry is the root. */
  async add(
    source: AsyncIterable<Candidate> | Iterable<Candidate>,
    options: AddOptions & ProgressOptions<AddProgress> & { total?: number } = {},
  ): Promise<AddResult> {
    const blockstore = options.onlyHash === true ? new BlackHoleBlockstore() : this.#c.blockstore
    let bytes = 0
    const counted = async function* (
      this: void,
    ): AsyncGenerator<{ path: string; content?: AsyncIterable<Uint8Array> }> {
      for await (const candidate of source) {
        options.signal?.throwIfAborted()
        if (candidate.content === undefined) {
          yield { path: candidate.path }
          continue
        }
        const content = candidate.content
        yield {
          path: candidate.path,
          content: (async function* () {
            for await (const chunk of content) {
              options.signal?.throwIfAborted()
              bytes += chunk.length
              options.onProgress?.({
                bytes,
                path: candidate.path,
                ...(options.total === undefined ? {} : { total: options.total }),
              })
              yield chunk
            }
          })(),
        }
      }
    }
    const entries: AddedEntry[] = []
    for await (const entry of importer(counted(), blockstore, importerOptions(options))) {
      entries.push({ path: entry.path ?? '', cid: entry.cid.toString(), size: Number(entry.size) })
    }
    const root = entries.at(-1)
    if (root === undefined) throw new InvalidInputError('nothing to add')
    if (options.onlyHash !== true) await this.pin(root.cid)
    return { cid: root.cid, size: root.size, entries }
  }

  /** The bytes of a file, streamed in order. */
  async *cat(cid: string | CID, options: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
    const entry = await this.#entry(cid, options)
    if (entry.type === 'directory') throw new InvalidInputError(`${cid} is a folder: list it with ls`)
    if (entry.type === 'object') throw new InvalidInputError(`${cid} is not a UnixFS file`)
    yield* entry.content(options)
  }

  /** A folder's entries with their sizes. */
  async ls(cid: string | CID, options: { signal?: AbortSignal } = {}): Promise<FolderEntry[]> {
    const entry = await this.#entry(cid, options)
    if (entry.type !== 'directory') {
      return [{ name: entry.name, cid: entry.cid.toString(), type: kind(entry), size: Number(entry.size) }]
    }
    const out: FolderEntry[] = []
    for await (const child of entry.entries(options)) {
      const sub = await exporter(child.cid, this.#c.blockstore, options)
      out.push({ name: child.name, cid: child.cid.toString(), type: kind(sub), size: Number(sub.size) })
    }
    return out
  }

  /** Pin a root whose whole DAG is stored here (so GC keeps it). */
  async pin(cid: string): Promise<Pin> {
    const root = parse(cid)
    const missing = await this.#firstMissing(root)
    if (missing !== undefined) throw new NotFoundError(`cannot pin ${cid}: block ${missing} is not stored here`)
    const pin = { cid: root.toString(), addedAt: Date.now() }
    await this.#c.datastore.put(new Key(`${PINS}${pin.cid}`), cbor.encode(pin))
    return pin
  }

  async unpin(cid: string): Promise<void> {
    const key = new Key(`${PINS}${parse(cid).toString()}`)
    if (!(await this.#c.datastore.has(key))) throw new NotFoundError(`${cid} is not pinned`)
    await this.#c.datastore.delete(key)
  }

  async pins(): Promise<Pin[]> {
    const out: Pin[] = []
    for await (const { value } of this.#c.datastore.query({ prefix: PINS })) out.push(cbor.decode(value) as Pin)
    return out.sort((a, b) => a.addedAt - b.addedAt)
  }

  /** Delete every block no pin needs. Returns what was freed. */
  async gc(): Promise<{ removed: number; bytes: number }> {
    const keep = new Set<string>()
    for (const pin of await this.pins()) {
      for await (const cid of this.#walk(parse(pin.cid))) keep.add(cid.toString())
    }
    let removed = 0
    let bytes = 0
    for await (const cid of this.#c.blockstore.cids()) {
      if (keep.has(cid.toString())) continue
      bytes += (await this.#c.blockstore.getBytes(cid)).length
      await this.#c.blockstore.delete(cid)
      removed++
    }
    return { removed, bytes }
  }

  async #entry(cid: string | CID, options: { signal?: AbortSignal }): Promise<UnixFSEntry> {
    const root = typeof cid === 'string' ? parse(cid) : cid
    try {
      return await exporter(root, this.#c.blockstore, options)
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') throw new NotFoundError(`${root} is not stored here`)
      throw err
    }
  }

  /** Every CID of a DAG that is stored (depth first). */
  async *#walk(root: CID): AsyncGenerator<CID> {
    const stack = [root]
    while (stack.length > 0) {
      const cid = stack.pop() as CID
      if (!(await this.#c.blockstore.has(cid))) continue
      yield cid
      stack.push(...linksOf(cid, await this.#c.blockstore.getBytes(cid)))
    }
  }

  async #firstMissing(root: CID): Promise<CID | undefined> {
    const stack = [root]
    while (stack.length > 0) {
      const cid = stack.pop() as CID
      if (!(await this.#c.blockstore.has(cid))) return cid
      stack.push(...linksOf(cid, await this.#c.blockstore.getBytes(cid)))
    }
    return undefined
  }
}

function kind(entry: UnixFSEntry): FolderEntry['type'] {
  if (entry.type === 'directory') return 'directory'
  // A small file with raw leaves is a single raw block: still a file to the user.
  if (entry.type === 'file' || entry.type === 'raw' || entry.type === 'identity') return 'file'
  return 'other'
}
