/**
 * The content service: import files and folders into UnixFS DAGs, export them, list folders,
 * fetch DAGs from the swarm, pin, announce, and garbage-collect what no pin needs.
 *
 * Each concept lives in its own file; this class composes them: importer.ts / exporter.ts
 * (UnixFS in and out), block-reader.ts (how the exporter reads), pins.ts, gc.ts (collection
 * that spares running transfers), announcer.ts and provider-lookup.ts (content routing),
 * swarm.ts (serving and downloading blocks).
 *
 * @example
 * ```ts
 * const { cid } = await node.content.addPath('./photos', { onProgress: (e) => console.log(e.bytes) })
 * for await (const chunk of node.content.cat(cid)) process.stdout.write(chunk)
 * ```
 */
import { BlackHoleBlockstore } from 'blockstore-core'
import { exporter, type ReadableStorage, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import type { CID } from 'multiformats/cid'
import type { AbortOptions, ProgressOptions } from '../core/abort.ts'
import { DEFAULT_PROVIDERS_TIMEOUT_MS } from '../core/constants.ts'
import type { Contribution, ContributionSeam } from '../core/contribution.ts'
import { InvalidInputError, NotFoundError, NotStartedError } from '../core/errors.ts'
import { type ComponentLogger, type Logger, silentLogger } from '../core/logger.ts'
import type { Net } from '../net/types.ts'
import type { Blocks, Datastore } from '../store/index.ts'
import { Announcer, type AnnouncerInit } from './announcer.ts'
import { FetchingReader, liveReader } from './block-reader.ts'
import { firstMissing, parseCid as parse, storedBlocks } from './dag.ts'
import { assertAbsent, entrySize, exportTo, type FolderEntry, fileContent, kind, listFolder } from './exporter.ts'
import type { FetchProgress, FetchResult } from './fetch-progress.ts'
import { GarbageCollector, type GcResult } from './gc.ts'
import type { AddOptions } from './import-options.ts'
import { type AddProgress, type AddResult, importCandidates } from './importer.ts'
import { type Candidate, localCandidates, totalSize } from './local-source.ts'
import { type Pin, PinStore } from './pins.ts'
import { lookupProviders, type Provider } from './provider-lookup.ts'
import { sessionLimits } from './session-limits.ts'
import { DEFAULT_CONTENT } from './settings.ts'
import { Swarm, type SwarmInit } from './swarm.ts'

export type { FolderEntry } from './exporter.ts'
export type { AddedEntry, AddProgress, AddResult } from './importer.ts'
export type { Pin } from './pins.ts'
export type { Provider } from './provider-lookup.ts'

export interface ContentInit extends SwarmInit, AnnouncerInit {
  /** How long `providers` searches unless told otherwise, ms. */
  providersTimeoutMs?: number
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

type NetworkOptions = AbortOptions & { timeoutMs?: number }

export class Content implements ContributionSeam {
  readonly #c: ContentComponents
  readonly #init: ContentInit
  readonly #log: Logger
  readonly #pins: PinStore
  readonly #gc: GarbageCollector
  readonly #swarm: Swarm | undefined
  readonly #announcer: Announcer | undefined

  constructor(components: ContentComponents, init: Partial<ContentInit> = {}) {
    this.#c = components
    this.#init = { ...DEFAULT_CONTENT, ...init }
    // The window bounds are compared here (the config schema checks each key alone); a bad
    // combination is a ConfigError naming the keys, before anything starts.
    sessionLimits(this.#init)
    this.#log = (components.logger ?? silentLogger).forComponent('lateral:content')
    this.#pins = new PinStore(components.datastore)
    this.#gc = new GarbageCollector({
      blockstore: components.blockstore,
      pinnedRoots: () => this.#pins.roots(),
      log: this.#log,
    })
    const net = components.net
    this.#swarm =
      net === undefined ? undefined : new Swarm(this.#init, { net, blockstore: this.#gc.store, logger: this.#log })
    this.#announcer =
      net === undefined
        ? undefined
        : new Announcer(
            { net, roots: async () => (await this.#pins.list()).map((p) => p.cid), log: this.#log },
            this.#init,
          )
  }

  get blockstore(): Blocks {
    return this.#c.blockstore
  }

  async start(): Promise<void> {
    await this.#swarm?.start()
    this.#announcer?.start()
  }

  async stop(): Promise<void> {
    this.#announcer?.stop()
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
    if (options.onlyHash === true) return importCandidates(source, new BlackHoleBlockstore(), options)
    const retention = this.#gc.retain()
    try {
      const result = await importCandidates(source, this.#gc.importStore(retention), options)
      // Durable before it is pinned and announced (blocks are synced by checkpoints, not one by one).
      await this.#c.blockstore.flush()
      await this.#pins.save(parse(result.cid))
      this.#announcer?.announce(result.cid)
      return result
    } finally {
      retention.release()
    }
  }

  /**
   * The bytes of a stored file, streamed in order. While a download of the same root runs, the
   * blocks it has not stored yet are waited for: the file streams out as it arrives.
   */
  async *cat(cid: string | CID, options: AbortOptions = {}): AsyncGenerator<Uint8Array> {
    const root = typeof cid === 'string' ? parse(cid) : cid
    const retention = this.#gc.retain(root)
    try {
      const reader = this.#liveReader(root)
      const entry = await this.#entry(root, reader, options)
      if (entry.type === 'directory') throw new InvalidInputError(`${cid} is a folder: list it with ls`)
      if (entry.type === 'object') throw new InvalidInputError(`${cid} is not a UnixFS file`)
      yield* fileContent(entry, reader, options)
    } finally {
      retention.release()
    }
  }

  /** Size and kind of stored content (from its root block). */
  async stat(
    cid: string | CID,
    options: AbortOptions = {},
  ): Promise<{ cid: string; type: FolderEntry['type']; size: number }> {
    const root = typeof cid === 'string' ? parse(cid) : cid
    const reader = this.#liveReader(root)
    const entry = await this.#entry(root, reader, options)
    return { cid: entry.cid.toString(), type: kind(entry), size: await entrySize(entry, reader) }
  }

  /** A folder's entries with their sizes; blocks not stored here are fetched through one swarm session. */
  async ls(cid: string | CID, options: NetworkOptions = {}): Promise<FolderEntry[]> {
    const root = typeof cid === 'string' ? parse(cid) : cid
    const swarm = this.#swarm
    const retention = this.#gc.retain(root)
    const reader =
      swarm === undefined ? undefined : new FetchingReader(this.#gc.store, () => swarm.session(root, options))
    try {
      const storage = reader ?? this.#c.blockstore
      return await listFolder(await this.#entry(root, storage, options), storage, options)
    } finally {
      await reader?.close()
      retention.release()
    }
  }

  /**
   * Fetch a DAG from the peers that have it (resuming from the blocks already stored), keep it
   * (pin and announce) unless `pin: false`, and write it to `output` if given.
   */
  async get(cid: string | CID, options: GetOptions = {}): Promise<GetResult> {
    const root = typeof cid === 'string' ? parse(cid) : cid
    const retention = this.#gc.retain(root)
    try {
      if (options.output !== undefined) await assertAbsent(options.output)
      const fetched = await this.fetch(root, options)
      const pinned = options.pin !== false
      if (pinned) {
        await this.#pins.save(root)
        this.#announcer?.announce(root.toString())
      }
      if (options.output !== undefined)
        await this.export(root, options.output, options.signal === undefined ? {} : { signal: options.signal })
      return { ...fetched, pinned, ...(options.output === undefined ? {} : { output: options.output }) }
    } finally {
      retention.release()
    }
  }

  /**
   * Make every block of a DAG local: from the store if there, else from peers. The download is
   * registered before this returns its promise, so `cat` of the same root started next streams it.
   */
  async fetch(
    root: CID,
    options: ProgressOptions<FetchProgress> & { timeoutMs?: number; recursive?: boolean } = {},
  ): Promise<FetchResult> {
    const retention = this.#gc.retain(root)
    try {
      if (this.#swarm !== undefined) {
        const fetched = await this.#swarm.fetch(root, options)
        // A finished download is durable before anyone is told so.
        await this.#c.blockstore.flush()
        return fetched
      }
      return await this.#fetchLocal(root)
    } finally {
      retention.release()
    }
  }

  /** Write a stored file or folder to disk. Written under a temporary name, renamed at the end. */
  async export(cid: string | CID, output: string, options: AbortOptions = {}): Promise<void> {
    const root = typeof cid === 'string' ? parse(cid) : cid
    const retention = this.#gc.retain(root)
    try {
      await assertAbsent(output)
      const reader = this.#liveReader(root)
      await exportTo(await this.#entry(root, reader, options), output, reader, options)
    } finally {
      retention.release()
    }
  }

  /** Peers that have a root: connected peers asked directly, and the DHT's provider records. */
  async providers(cid: string, options: NetworkOptions = {}): Promise<Provider[]> {
    const root = parse(cid)
    const swarm = this.#swarm
    if (this.#c.net === undefined || swarm === undefined) throw new NotStartedError('this node has no network')
    return lookupProviders(
      { net: this.#c.net, askHave: (peerId, c, signal) => swarm.askHave(peerId, c, signal), log: this.#log },
      root,
      {
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        timeoutMs: options.timeoutMs ?? this.#init.providersTimeoutMs ?? DEFAULT_PROVIDERS_TIMEOUT_MS,
      },
    )
  }

  /** Announce every pinned root again (also run every reprovideIntervalMs), a few at a time. */
  async reprovide(): Promise<number> {
    return this.#announcer === undefined ? (await this.#pins.list()).length : this.#announcer.reprovide()
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

  /** The ledger's side of the seam: it counts the bytes served and received, and orders upload turns. */
  setContribution(contribution: Contribution | undefined): void {
    this.#swarm?.setContribution(contribution)
  }

  /** Pin a root: its whole DAG is fetched first if blocks are missing, then kept by GC and announced. */
  async pin(cid: string, options: NetworkOptions = {}): Promise<Pin> {
    const root = parse(cid)
    const retention = this.#gc.retain(root)
    try {
      await this.fetch(root, options)
      const pin = await this.#pins.save(root)
      this.#announcer?.announce(pin.cid)
      return pin
    } finally {
      retention.release()
    }
  }

  async unpin(cid: string): Promise<void> {
    await this.#pins.remove(cid)
  }

  async pins(): Promise<Pin[]> {
    return this.#pins.list()
  }

  /** Delete every block that no pin and no running transfer needs. Returns what was freed. */
  async gc(): Promise<GcResult> {
    return this.#gc.collect()
  }

  /** Stored blocks, or those a running download of `root` is about to store. */
  #liveReader(root: CID): ReadableStorage {
    const swarm = this.#swarm
    return liveReader(this.#c.blockstore, () => swarm?.fetchOf(root))
  }

  async #entry(root: CID, reader: ReadableStorage, options: AbortOptions): Promise<UnixFSEntry> {
    try {
      return await exporter(root, reader, options)
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') throw new NotFoundError(`${root} is not stored here`)
      throw err
    }
  }

  /** `fetch` without a network: every block must be here already. */
  async #fetchLocal(root: CID): Promise<FetchResult> {
    const blocks = this.#c.blockstore
    const missing = await firstMissing(blocks, root)
    if (missing !== undefined)
      throw new NotFoundError(`block ${missing} is not stored here and this node has no network`)
    let count = 0
    let bytes = 0
    for await (const cid of storedBlocks(blocks, root)) {
      count++
      bytes += await blocks.size(cid)
    }
    return {
      cid: root.toString(),
      fetchedBytes: 0,
      fetchedBlocks: 0,
      storedBytes: bytes,
      storedBlocks: count,
      totalBytes: bytes,
      rateBps: 0,
      peers: [],
      blocks: count,
      bytes,
      durationMs: 0,
    }
  }
}
