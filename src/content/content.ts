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
import { randomBytes } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { lstat, mkdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import * as cbor from '@ipld/dag-cbor'
import { BlackHoleBlockstore } from 'blockstore-core'
import { Key } from 'interface-datastore'
import { exporter, type ReadableStorage, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import { importer } from 'ipfs-unixfs-importer'
import type { CID } from 'multiformats/cid'
import type { ProgressOptions } from '../core/abort.ts'
import { AlreadyExistsError, InvalidInputError, NotFoundError, NotStartedError } from '../core/errors.ts'
import { type ComponentLogger, errorFields, type Logger, silentLogger } from '../core/logger.ts'
import type { Net } from '../net/types.ts'
import type { Datastore } from '../store/datastore.ts'
import type { Blocks } from '../store/index.ts'
import { dagSize, linksOf, parseCid as parse } from './dag.ts'
import { type AddOptions, importerOptions } from './import-options.ts'
import { type Candidate, localCandidates, totalSize } from './local-source.ts'
import { DEFAULT_CONTENT } from './settings.ts'
import { Swarm, type SwarmInit } from './swarm.ts'
import type { FetchProgress, FetchResult } from './swarm-session.ts'

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

export interface ContentInit extends SwarmInit {
  /** How often every pinned root is announced again in the DHT, ms (0 = never). */
  reprovideIntervalMs: number
}

export interface ContentComponents {
  blockstore: Blocks
  datastore: Datastore
  /** Without a network the service works on local content only. */
  net?: Net
  logger?: ComponentLogger
}

export interface GetOptions extends ProgressOptions<FetchProgress> {
  /** Write the file or folder here (atomically: nothing appears unless it completes). */
  output?: string
  /** Keep the content (pin it) and announce it. Default true. */
  pin?: boolean
  /** Give up when no provider is found for this long, ms. */
  timeoutMs?: number
}

export interface GetResult extends FetchResult {
  /** Where the content was written, if asked. */
  output?: string
  pinned: boolean
}

export interface Provider {
  peerId: string
  /** How it was found: asked directly (connected) and/or named by the DHT. */
  sources: Array<'connected' | 'dht'>
  addresses: string[]
}

const PINS = '/lateral/pins/'

export class Content {
  readonly #c: ContentComponents
  readonly #init: ContentInit
  readonly #log: Logger
  readonly #swarm: Swarm | undefined
  #reprovider: ReturnType<typeof setInterval> | undefined

  constructor(components: ContentComponents, init: Partial<ContentInit> = {}) {
    this.#c = components
    this.#init = { ...DEFAULT_CONTENT, ...init }
    this.#log = (components.logger ?? silentLogger).forComponent('lateral:content')
    this.#swarm =
      components.net === undefined
        ? undefined
        : new Swarm(this.#init, { net: components.net, blockstore: components.blockstore, logger: this.#log })
  }

  get blockstore(): Blocks {
    return this.#c.blockstore
  }

  async start(): Promise<void> {
    await this.#swarm?.start()
    if (this.#swarm !== undefined && this.#init.reprovideIntervalMs > 0) {
      this.#reprovider = setInterval(() => void this.reprovide(), this.#init.reprovideIntervalMs)
      this.#reprovider.unref()
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#reprovider)
    await this.#swarm?.stop()
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
    if (options.onlyHash !== true) {
      await this.#savePin(parse(root.cid))
      this.#announce(root.cid)
    }
    return { cid: root.cid, size: root.size, entries }
  }

  /** The bytes of a file, streamed in order. */
  async *cat(cid: string | CID, options: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
    const entry = await this.#entry(cid, options)
    if (entry.type === 'directory') throw new InvalidInputError(`${cid} is a folder: list it with ls`)
    if (entry.type === 'object') throw new InvalidInputError(`${cid} is not a UnixFS file`)
    yield* entry.content(options)
  }

  /** Size and kind of stored content (from its root block). */
  async stat(
    cid: string | CID,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ cid: string; type: FolderEntry['type']; size: number }> {
    const entry = await this.#entry(cid, options)
    return { cid: entry.cid.toString(), type: kind(entry), size: await this.#size(entry, this.#c.blockstore) }
  }

  /** A folder's entries with their sizes; blocks not stored here are fetched from peers. */
  async ls(cid: string | CID, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<FolderEntry[]> {
    const entry = await this.#entry(cid, options, true)
    if (entry.type !== 'directory') {
      return [{ name: entry.name, cid: entry.cid.toString(), type: kind(entry), size: Number(entry.size) }]
    }
    const out: FolderEntry[] = []
    const reader = this.#reader(options)
    for await (const child of entry.entries(options)) {
      const sub = await exporter(child.cid, reader, options)
      out.push({ name: child.name, cid: child.cid.toString(), type: kind(sub), size: await this.#size(sub, reader) })
    }
    return out
  }

  /**
   * Fetch a DAG from the peers that have it (resuming from the blocks already stored), keep it
   * (pin and announce) unless `pin: false`, and write it to `output` if given.
   */
  async get(cid: string | CID, options: GetOptions = {}): Promise<GetResult> {
    const root = typeof cid === 'string' ? parse(cid) : cid
    if (options.output !== undefined) await assertAbsent(options.output)
    const fetched = await this.fetch(root, options)
    const pinned = options.pin !== false
    if (pinned) {
      await this.#savePin(root)
      this.#announce(root.toString())
    }
    if (options.output !== undefined)
      await this.export(root, options.output, options.signal === undefined ? {} : { signal: options.signal })
    return { ...fetched, pinned, ...(options.output === undefined ? {} : { output: options.output }) }
  }

  /** Make every block of a DAG local: from the store if there, else from peers. */
  async fetch(
    root: CID,
    options: ProgressOptions<FetchProgress> & { timeoutMs?: number; recursive?: boolean } = {},
  ): Promise<FetchResult> {
    if (this.#swarm === undefined) {
      const missing = await this.#firstMissing(root)
      if (missing !== undefined)
        throw new NotFoundError(`block ${missing} is not stored here and this node has no network`)
    }
    if (this.#swarm !== undefined) return this.#swarm.fetch(root, options)
    let blocks = 0
    let bytes = 0
    for await (const cid of this.#walk(root)) {
      blocks++
      bytes += await this.#c.blockstore.size(cid)
    }
    return {
      cid: root.toString(),
      fetchedBytes: 0,
      fetchedBlocks: 0,
      storedBytes: bytes,
      storedBlocks: blocks,
      totalBytes: bytes,
      rateBps: 0,
      peers: [],
      blocks,
      bytes,
      durationMs: 0,
    }
  }

  /** Write a stored file or folder to disk. Written under a temporary name, renamed at the end. */
  async export(cid: string | CID, output: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const root = typeof cid === 'string' ? parse(cid) : cid
    await assertAbsent(output)
    const partial = join(dirname(output), `.${basename(output)}.lateral-partial-${randomBytes(4).toString('hex')}`)
    try {
      await this.#write(await this.#entry(root, options), partial, options)
      await assertAbsent(output)
      await rename(partial, output)
    } catch (err) {
      await rm(partial, { recursive: true, force: true })
      throw err
    }
  }

  async #write(entry: UnixFSEntry, path: string, options: { signal?: AbortSignal }): Promise<void> {
    if (entry.type === 'directory') {
      await mkdir(path, { mode: 0o755 })
      for await (const child of entry.entries(options)) {
        if (child.name.includes('/') || child.name === '..' || child.name === '.' || child.name === '')
          throw new InvalidInputError(`refusing folder entry named ${JSON.stringify(child.name)}`)
        await this.#write(await exporter(child.cid, this.#c.blockstore, options), join(path, child.name), options)
      }
      return
    }
    if (entry.type === 'object') throw new InvalidInputError(`${entry.cid} is not a UnixFS file or folder`)
    await pipeline(entry.content(options), createWriteStream(path, { mode: 0o644 }), options)
  }

  /** Peers that have a root: connected peers asked directly, and the DHT's provider records. */
  async providers(cid: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Provider[]> {
    const root = parse(cid)
    const net = this.#requireNet()
    const signal = AbortSignal.any([
      ...(options.signal === undefined ? [] : [options.signal]),
      AbortSignal.timeout(options.timeoutMs ?? 10_000),
    ])
    const found = new Map<string, Provider>()
    const note = (peerId: string, source: 'connected' | 'dht', addresses: string[]) => {
      const p = found.get(peerId) ?? { peerId, sources: [], addresses: [] }
      if (!p.sources.includes(source)) p.sources.push(source)
      for (const a of addresses) if (!p.addresses.includes(a)) p.addresses.push(a)
      found.set(peerId, p)
    }
    const connected = await net.connections()
    const asked = Promise.all(
      connected.map(async (c) => {
        if (await (this.#swarm as Swarm).askHave(c.peerId, root, signal)) note(c.peerId, 'connected', c.addresses)
      }),
    )
    const dht = (async () => {
      try {
        for await (const p of net.findProviders(root.toString(), { signal })) note(p.peerId, 'dht', p.addresses)
      } catch (err) {
        this.#log.debug('DHT provider lookup failed', errorFields(err))
      }
    })()
    await Promise.all([asked, dht])
    options.signal?.throwIfAborted()
    return [...found.values()]
  }

  /** Announce every pinned root again (also run every reprovideIntervalMs). */
  async reprovide(): Promise<number> {
    const pins = await this.pins()
    await Promise.all(pins.map((p) => this.#provide(p.cid)))
    return pins.length
  }

  /** Bytes and blocks served to each peer, and corrupt blocks received from each. */
  stats(): {
    served: Array<{ peerId: string; bytes: number; blocks: number }>
    offences: Array<{ peerId: string; corruptBlocks: number; refused: boolean }>
  } {
    const swarm = this.#swarm
    if (swarm === undefined) return { served: [], offences: [] }
    return {
      served: [...swarm.served()].map(([peerId, t]) => ({ peerId, ...t })),
      offences: [...swarm.offences()].map(([peerId, n]) => ({
        peerId,
        corruptBlocks: n,
        refused: swarm.isBanned(peerId),
      })),
    }
  }

  limits(): { uploadLimit: number; downloadLimit: number } {
    return this.#swarm?.limits() ?? { uploadLimit: 0, downloadLimit: 0 }
  }

  setLimits(limits: { uploadLimit?: number; downloadLimit?: number }): void {
    this.#swarm?.setLimits(limits)
  }

  /** Pin a root: its whole DAG is fetched first if blocks are missing, then kept by GC and announced. */
  async pin(cid: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Pin> {
    const root = parse(cid)
    await this.fetch(root, options)
    const pin = await this.#savePin(root)
    this.#announce(pin.cid)
    return pin
  }

  async #savePin(root: CID): Promise<Pin> {
    const key = new Key(`${PINS}${root.toString()}`)
    if (await this.#c.datastore.has(key)) return cbor.decode(await this.#c.datastore.get(key)) as Pin
    const pin = { cid: root.toString(), addedAt: Date.now() }
    await this.#c.datastore.put(key, cbor.encode(pin))
    return pin
  }

  #announce(cid: string): void {
    void this.#provide(cid)
  }

  async #provide(cid: string): Promise<void> {
    const net = this.#c.net
    if (net === undefined) return
    try {
      await net.provide(cid, { signal: AbortSignal.timeout(60_000) })
      this.#log.debug('announced', { cid })
    } catch (err) {
      this.#log.debug('announce failed (no DHT peers yet?); it is retried at the next reprovide', {
        cid,
        ...errorFields(err),
      })
    }
  }

  #requireNet(): Net {
    if (this.#c.net === undefined || this.#swarm === undefined) throw new NotStartedError('this node has no network')
    return this.#c.net
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
      bytes += await this.#c.blockstore.size(cid)
      await this.#c.blockstore.delete(cid)
      removed++
    }
    return { removed, bytes }
  }

  async #entry(
    cid: string | CID,
    options: { signal?: AbortSignal; timeoutMs?: number },
    network = false,
  ): Promise<UnixFSEntry> {
    const root = typeof cid === 'string' ? parse(cid) : cid
    try {
      return await exporter(root, network ? this.#reader(options) : this.#c.blockstore, options)
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') throw new NotFoundError(`${root} is not stored here`)
      throw err
    }
  }

  /** A file's size, or a folder's total (its DAG's cumulative size, as `ipfs ls` shows it). */
  async #size(entry: UnixFSEntry, reader: ReadableStorage): Promise<number> {
    if (entry.type !== 'directory') return Number(entry.size)
    const parts: Uint8Array[] = []
    for await (const chunk of reader.get(entry.cid)) parts.push(chunk)
    return (
      dagSize(entry.cid, parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts)) ?? Number(entry.size)
    )
  }

  /** The blockstore as the exporter reads it, fetching single missing blocks from peers. */
  #reader(options: { signal?: AbortSignal; timeoutMs?: number }): ReadableStorage {
    const blocks = this.#c.blockstore
    const swarm = this.#swarm
    return {
      async *get(cid: CID) {
        if (swarm !== undefined && !(await blocks.has(cid))) await swarm.fetch(cid, { ...options, recursive: false })
        yield await blocks.getBytes(cid)
      },
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

async function assertAbsent(path: string): Promise<void> {
  const exists = await lstat(path).then(
    () => true,
    () => false,
  )
  if (exists) throw new AlreadyExistsError(`${path} already exists: choose another output path or remove it`)
}
