/**
 * One download: fetch every block of a DAG from all the peers that have it at once.
 *
 * - The DAG is walked breadth-first: a block's links become wanted as soon as it is stored;
 *   blocks already in the store are walked without fetching (a stopped download resumes).
 * - Each peer has a request window sized from its measured throughput and latency
 *   (bandwidth-delay product plus headroom), halved when it times out.
 * - Among the first blocks in DAG order, each peer is given the ones it is known to have and
 *   the fewest other peers have (rarest first); peers answer have-queries for every new block.
 * - When nothing is left to assign, idle peers duplicate the outstanding requests (end-game);
 *   the first copy wins and the others are cancelled.
 * - A peer that times out repeatedly or disconnects has its requests moved to the others; one
 *   whose block does not match its CID is dropped at once and reported.
 * - Every block is hashed before it is stored. Memory holds the in-flight blocks (windows are
 *   capped) and a few dozen bytes per wanted CID, whatever the size of the file.
 */
import type { CID } from 'multiformats/cid'
import { AbortedError, InvalidInputError, NoProvidersError } from '../core/errors.ts'
import { encodeFrame, readFrames } from '../core/framing.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import type { Net, ProtocolStream } from '../net/types.ts'
import {
  BLOCKS_PROTOCOL,
  type BlocksMessage,
  decodeMessage,
  encodeMessage,
  MAX_ENTRIES,
  MAX_FRAME_BYTES,
  WANT_BLOCK,
  WANT_HAVE,
} from './blocks-message.ts'
import { dagSize, linksOf } from './dag.ts'
import { type ByteRate, sleep } from './throttle.ts'
import { blockMatches, isSupported } from './verify.ts'

export interface SessionBlockstore {
  has(cid: CID): Promise<boolean>
  getBytes(cid: CID): Promise<Uint8Array>
  put(cid: CID, bytes: Uint8Array): Promise<CID>
}

export interface SwarmTuning {
  /** Give up when no block arrives and no peer with the content appears for this long, ms. */
  providerTimeoutMs: number
  /** A request unanswered for this long (or 4x the peer's expected time, if longer) times out. */
  blockTimeoutMs: number
  /** Peers asked in one session. */
  maxPeers: number
  /** How often the DHT is asked again for providers while the download runs, ms. */
  providerSearchIntervalMs: number
}

export interface SessionComponents {
  net: Net
  blockstore: SessionBlockstore
  downloadRate: ByteRate
  tuning: SwarmTuning
  isBanned(peerId: string): boolean
  /** A peer sent a block that does not match its CID. */
  reportCorrupt(peerId: string, cid: CID): void
  log: Logger
}

export type PeerState = 'active' | 'dropped' | 'corrupt' | 'timed-out'

export interface PeerTally {
  peerId: string
  /** Block bytes this peer delivered (and that were kept). */
  bytes: number
  blocks: number
  /** Recent delivery rate, bytes per second. */
  rateBps: number
  state: PeerState
}

export interface FetchProgress {
  cid: string
  /** Bytes of the whole DAG, when the root says (dag-pb cumulative sizes). */
  totalBytes?: number
  /** Bytes fetched from peers so far. */
  fetchedBytes: number
  fetchedBlocks: number
  /** Bytes found already stored here (resume). */
  storedBytes: number
  storedBlocks: number
  /** Recent download rate, bytes per second. */
  rateBps: number
  /** Estimated time left, ms, when the total is known and bytes are moving. */
  etaMs?: number
  peers: PeerTally[]
}

export interface FetchResult extends FetchProgress {
  blocks: number
  bytes: number
  durationMs: number
}

export interface FetchOptions {
  signal?: AbortSignal
  onProgress?: (progress: FetchProgress) => void
  /** Fetch only the root block, not the DAG under it. */
  recursive?: boolean
  /** Overrides the node's providerTimeoutMs. */
  timeoutMs?: number
}

const INITIAL_WINDOW = 8
const MIN_WINDOW = 8
const MAX_WINDOW = 32
/** How far into the wanted list (DAG order) the scheduler looks for the rarest block. */
const SCAN = 256
/** Requests of one block at a time in the end-game. */
const MAX_DUPLICATES = 3
/** Blocks written to the store at once; the streams wait beyond that (memory bound). */
const MAX_STORING = 16
const STRIKES_BEFORE_DROP = 3
const RATE_WINDOW_MS = 3000
/** A request is not duplicated in the end-game before it is this late. */
const END_GAME_GRACE_MS = 50

interface SessionPeer {
  id: string
  stream: ProtocolStream
  state: PeerState
  window: number
  /** CID -> time requested. */
  requests: Map<string, number>
  rateBps: number
  minLatencyMs: number
  lastArrival: number
  strikes: number
  bytes: number
  blocks: number
  samples: Array<[number, number]>
}

interface Inflight {
  cid: CID
  /** Peer -> time requested. */
  askedOf: Map<string, number>
}

export class SwarmSession {
  readonly root: CID
  readonly #c: SessionComponents
  readonly #options: FetchOptions
  readonly #abort = new AbortController()
  readonly #pending = new Map<string, CID>()
  readonly #inflight = new Map<string, Inflight>()
  readonly #storing = new Set<string>()
  readonly #haves = new Map<string, Set<string>>()
  readonly #lacks = new Map<string, Set<string>>()
  readonly #peers = new Map<string, SessionPeer>()
  readonly #joining = new Set<string>()
  /** Blocks being written to the store. */
  readonly #stores = new Set<Promise<void>>()
  /** Peers that said they have, or sent, any block of this DAG. */
  readonly #holders = new Set<string>()
  readonly #samples: Array<[number, number]> = []
  #busy = 0
  #totalBytes: number | undefined
  #fetchedBytes = 0
  #fetchedBlocks = 0
  #storedBytes = 0
  #storedBlocks = 0
  #lastProgressAt = Date.now()
  #startedAt = Date.now()
  #settle: { resolve: () => void; reject: (err: Error) => void } | undefined
  #failed: Error | undefined

  constructor(root: CID, components: SessionComponents, options: FetchOptions = {}) {
    this.root = root
    this.#c = components
    this.#options = options
  }

  get #signal(): AbortSignal {
    return this.#abort.signal
  }

  /** Run the download to the end. Resolves when every block is stored. */
  async run(): Promise<FetchResult> {
    const outer = this.#options.signal
    outer?.throwIfAborted()
    const onAbort = () => this.#fail(new AbortedError(`fetching ${this.root} was cancelled`))
    outer?.addEventListener('abort', onAbort, { once: true })
    const finished = new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject }
    })
    const onConnect = (evt: CustomEvent<{ peerId: string }>) => void this.#join(evt.detail.peerId)
    this.#c.net.addEventListener('peer:connect', onConnect)
    const ticker = setInterval(() => this.#tick(), 250)
    try {
      this.#busy++
      await this.#want(this.root, true)
      this.#busy--
      this.#checkDone()
      if (this.#pending.size > 0) this.#discover()
      await finished
      return {
        ...this.#progress(),
        blocks: this.#fetchedBlocks + this.#storedBlocks,
        bytes: this.#fetchedBytes + this.#storedBytes,
        durationMs: Date.now() - this.#startedAt,
      }
    } finally {
      clearInterval(ticker)
      outer?.removeEventListener('abort', onAbort)
      this.#c.net.removeEventListener('peer:connect', onConnect)
      this.#abort.abort()
      await Promise.all([...this.#peers.values()].map((p) => this.#closePeer(p)))
    }
  }

  #fail(err: Error): void {
    if (this.#failed !== undefined) return
    this.#failed = err
    this.#abort.abort()
    this.#settle?.reject(err)
  }

  // --- the DAG ---------------------------------------------------------------------------

  /** A CID became known: walk it if stored, else want it. */
  async #want(cid: CID, isRoot = false): Promise<void> {
    const key = cid.toString()
    if (this.#pending.has(key) || this.#inflight.has(key) || this.#storing.has(key)) return
    if (!isSupported(cid)) throw new InvalidInputError(`cannot fetch ${cid}: unsupported codec or hash`)
    if (cid.multihash.code === 0x00) {
      // Identity CID: the bytes are in the CID itself.
      await this.#walk(cid, cid.multihash.digest, isRoot, false)
      return
    }
    if (await this.#c.blockstore.has(cid)) {
      await this.#walk(cid, await this.#c.blockstore.getBytes(cid), isRoot, false)
      return
    }
    this.#pending.set(key, cid)
  }

  /** A block is here (stored before, or just fetched and stored): account for it and go on to its links. */
  async #walk(cid: CID, bytes: Uint8Array, isRoot: boolean, fetched: boolean): Promise<void> {
    if (!fetched) {
      this.#storedBytes += bytes.length
      this.#storedBlocks++
    }
    if (isRoot) this.#totalBytes = dagSize(cid, bytes)
    if (!isRoot || this.#options.recursive !== false) {
      const links = linksOf(cid, bytes)
      const fresh: CID[] = []
      for (const link of links) {
        const before = this.#pending.size
        await this.#want(link)
        if (this.#pending.size > before) fresh.push(link)
      }
      if (fresh.length > 0) this.#askHaves(fresh)
    }
  }

  // --- peers -----------------------------------------------------------------------------

  /** Connected peers first, then the DHT, again every providerSearchIntervalMs. */
  #discover(): void {
    void (async () => {
      const connected = await this.#c.net.connections().catch(() => [])
      await Promise.all(connected.map((c) => this.#join(c.peerId)))
      while (!this.#signal.aborted) {
        try {
          const search = AbortSignal.any([this.#signal, AbortSignal.timeout(this.#c.tuning.providerSearchIntervalMs)])
          for await (const provider of this.#c.net.findProviders(this.root.toString(), { signal: search })) {
            void this.#join(provider.peerId, true)
          }
        } catch (err) {
          this.#c.log.debug('provider search failed', { cid: this.root.toString(), ...errorFields(err) })
        }
        await delay(this.#c.tuning.providerSearchIntervalMs, this.#signal)
      }
    })()
  }

  async #join(peerId: string, dial = false): Promise<void> {
    if (this.#signal.aborted || this.#peers.has(peerId) || this.#joining.has(peerId)) return
    if (peerId === this.#c.net.peerId || this.#c.isBanned(peerId)) return
    if (this.#activePeers().length >= this.#c.tuning.maxPeers) return
    this.#joining.add(peerId)
    try {
      const signal = AbortSignal.any([this.#signal, AbortSignal.timeout(this.#c.tuning.blockTimeoutMs)])
      if (dial) await this.#c.net.connect(peerId, { signal })
      const stream = await this.#c.net.openStream(peerId, BLOCKS_PROTOCOL, { signal })
      if (this.#signal.aborted) {
        stream.abort(new Error('session over'))
        return
      }
      const peer: SessionPeer = {
        id: peerId,
        stream,
        state: 'active',
        window: INITIAL_WINDOW,
        requests: new Map(),
        rateBps: 0,
        minLatencyMs: Number.POSITIVE_INFINITY,
        lastArrival: 0,
        strikes: 0,
        bytes: 0,
        blocks: 0,
        samples: [],
      }
      this.#peers.set(peerId, peer)
      void this.#read(peer)
      // Ask what it has of everything still wanted (the root first), then give it work.
      const wanted = [...this.#pending.values(), ...[...this.#inflight.values()].map((f) => f.cid)]
      await this.#sendWants(peer, wanted, WANT_HAVE)
      this.#schedule()
    } catch (err) {
      this.#c.log.debug('peer not joined to session', { peerId, cid: this.root.toString(), ...errorFields(err) })
    } finally {
      this.#joining.delete(peerId)
    }
  }

  async #read(peer: SessionPeer): Promise<void> {
    try {
      for await (const frame of readFrames(peer.stream, MAX_FRAME_BYTES)) {
        await this.#onMessage(peer, decodeMessage(frame))
        if (peer.state !== 'active') return
      }
      this.#drop(peer, 'dropped', 'closed the stream')
    } catch (err) {
      if (this.#signal.aborted || peer.state !== 'active') return
      if (err instanceof InvalidInputError) this.#c.net.penalize(peer.id, 1, `bad blocks message: ${err.message}`)
      this.#drop(peer, 'dropped', (err as Error).message)
    }
  }

  async #onMessage(peer: SessionPeer, message: BlocksMessage): Promise<void> {
    switch (message.t) {
      case 'have':
        this.#holders.add(peer.id)
        for (const cid of message.cids) addTo(this.#haves, cid.toString(), peer.id)
        this.#lastProgressAt = Date.now()
        this.#schedule()
        return
      case 'dont-have':
        for (const cid of message.cids) {
          const key = cid.toString()
          addTo(this.#lacks, key, peer.id)
          this.#haves.get(key)?.delete(peer.id)
          if (peer.requests.delete(key)) this.#unask(key, peer.id)
        }
        this.#schedule()
        return
      case 'block':
        await this.#onBlock(peer, message.cid, message.data)
        return
      default:
        throw new InvalidInputError(`a provider may not send "${message.t}"`)
    }
  }

  async #onBlock(peer: SessionPeer, cid: CID, data: Uint8Array): Promise<void> {
    const key = cid.toString()
    const sentAt = peer.requests.get(key)
    if (sentAt === undefined) return // cancelled or never asked for: ignore the copy
    await this.#c.downloadRate.take(data.length, this.#signal)
    if (!blockMatches(cid, data)) {
      this.#c.log.warn('peer sent a corrupt block', { peerId: peer.id, cid: key })
      this.#c.reportCorrupt(peer.id, cid)
      this.#drop(peer, 'corrupt', `block ${key} does not match its CID`)
      return
    }
    peer.requests.delete(key)
    this.#holders.add(peer.id)
    this.#measure(peer, data.length, sentAt)
    const flight = this.#inflight.get(key)
    if (flight === undefined) return // another peer's copy won
    this.#inflight.delete(key)
    for (const other of flight.askedOf.keys()) {
      if (other === peer.id) continue
      const p = this.#peers.get(other)
      if (p === undefined || !p.requests.delete(key)) continue
      void this.#send(p, { t: 'cancel', cids: [cid] })
    }
    this.#storing.add(key)
    this.#busy++
    // Ask for the next blocks at once, and store this one in the background so the stream
    // keeps flowing; a bounded number of stores at once.
    this.#schedule()
    const stored = this.#store(peer, cid, key, data)
    this.#stores.add(stored)
    void stored.finally(() => this.#stores.delete(stored))
    while (this.#stores.size >= MAX_STORING && !this.#signal.aborted) await Promise.race(this.#stores)
  }

  async #store(peer: SessionPeer, cid: CID, key: string, data: Uint8Array): Promise<void> {
    try {
      await this.#c.blockstore.put(cid, data)
      this.#fetchedBytes += data.length
      this.#fetchedBlocks++
      peer.bytes += data.length
      peer.blocks++
      this.#lastProgressAt = Date.now()
      this.#haves.delete(key)
      this.#lacks.delete(key)
      await this.#walk(cid, data, cid.equals(this.root), true)
    } catch (err) {
      this.#fail(err as Error)
      return
    } finally {
      this.#storing.delete(key)
      this.#busy--
    }
    this.#report()
    this.#schedule()
    this.#checkDone()
  }

  /** Throughput and latency estimates, and the window they give. */
  #measure(peer: SessionPeer, bytes: number, sentAt: number): void {
    const now = performance.now()
    const latency = now - sentAt
    peer.minLatencyMs = Math.min(peer.minLatencyMs, latency)
    const interval = Math.max(0.05, now - Math.max(sentAt, peer.lastArrival))
    const sample = (bytes / interval) * 1000
    peer.rateBps = peer.rateBps === 0 ? sample : peer.rateBps * 0.8 + sample * 0.2
    peer.lastArrival = now
    peer.samples.push([now, bytes])
    this.#samples.push([now, bytes])
    const avgBlock = this.#fetchedBlocks > 0 ? this.#fetchedBytes / this.#fetchedBlocks : bytes
    const bdp = (peer.rateBps * (peer.minLatencyMs / 1000)) / Math.max(1, avgBlock)
    peer.window = clamp(Math.ceil(bdp) + 2, MIN_WINDOW, MAX_WINDOW)
    peer.strikes = 0
  }

  /** Drop a peer from the session; its outstanding requests go back to the others. */
  #drop(peer: SessionPeer, state: PeerState, reason: string): void {
    if (peer.state !== 'active') return
    peer.state = state
    this.#c.log.debug('peer left session', { peerId: peer.id, cid: this.root.toString(), state, reason })
    for (const key of peer.requests.keys()) this.#unask(key, peer.id)
    peer.requests.clear()
    for (const set of this.#haves.values()) set.delete(peer.id)
    void this.#closePeer(peer)
    this.#schedule()
  }

  async #closePeer(peer: SessionPeer): Promise<void> {
    if (peer.state === 'active') peer.state = 'dropped'
    try {
      await peer.stream.close({ signal: AbortSignal.timeout(1000) })
    } catch {
      peer.stream.abort(new Error('session over'))
    }
  }

  /** `peerId` no longer serves this request; with no one else on it, it is wanted again. */
  #unask(key: string, peerId: string): void {
    const flight = this.#inflight.get(key)
    if (flight === undefined) return
    flight.askedOf.delete(peerId)
    if (flight.askedOf.size === 0) {
      this.#inflight.delete(key)
      this.#pending.set(key, flight.cid)
    }
  }

  // --- scheduling ------------------------------------------------------------------------

  #activePeers(): SessionPeer[] {
    return [...this.#peers.values()].filter((p) => p.state === 'active')
  }

  #schedule(): void {
    if (this.#signal.aborted) return
    // Fastest peers choose first.
    const peers = this.#activePeers().sort((a, b) => b.rateBps - a.rateBps)
    for (const peer of peers) {
      const free = peer.window - peer.requests.size
      if (free <= 0) continue
      const picks = this.#pick(peer, free)
      if (picks.length === 0) continue
      const now = performance.now()
      for (const cid of picks) {
        const key = cid.toString()
        this.#pending.delete(key)
        const flight = this.#inflight.get(key) ?? { cid, askedOf: new Map<string, number>() }
        flight.askedOf.set(peer.id, now)
        this.#inflight.set(key, flight)
        peer.requests.set(key, now)
      }
      void this.#sendWants(peer, picks, WANT_BLOCK)
    }
  }

  /** Up to `n` blocks for this peer: rarest first among the next wanted, then end-game copies. */
  #pick(peer: SessionPeer, n: number): CID[] {
    const scored: Array<{ cid: CID; score: number }> = []
    let order = 0
    for (const [key, cid] of this.#pending) {
      if (order >= SCAN) break
      order++
      if (this.#lacks.get(key)?.has(peer.id) === true) continue
      const holders = this.#haves.get(key)
      const known = holders?.has(peer.id) === true
      // Known holders before unknown; fewer holders first; DAG order breaks ties.
      scored.push({ cid, score: (known ? 0 : 1_000_000) + (holders?.size ?? 0) * 1000 + order })
    }
    scored.sort((a, b) => a.score - b.score)
    const picks = scored.slice(0, n).map((s) => s.cid)
    if (picks.length >= n || this.#pending.size > picks.length) return picks
    // End-game: everything is asked for. Duplicate a request only when its peer is late on it
    // (older than 1.5x what that peer's rate and queue predict), so fast peers finish the tail.
    const now = performance.now()
    const extra = [...this.#inflight.entries()]
      .filter(
        ([key, f]) =>
          !f.askedOf.has(peer.id) &&
          f.askedOf.size < MAX_DUPLICATES &&
          this.#lacks.get(key)?.has(peer.id) !== true &&
          !this.#storing.has(key) &&
          now - oldest(f) > 1.5 * this.#expectedMs(f) + END_GAME_GRACE_MS,
      )
      .sort((a, b) => a[1].askedOf.size - b[1].askedOf.size || oldest(a[1]) - oldest(b[1]))
      .slice(0, n - picks.length)
      .map(([, f]) => f.cid)
    return [...picks, ...extra]
  }

  /** How long the peers asked for a block should take to send it, by their rate and queue. */
  #expectedMs(f: Inflight): number {
    const avgBlock = this.#fetchedBlocks > 0 ? this.#fetchedBytes / this.#fetchedBlocks : 256 * 1024
    let best = Number.POSITIVE_INFINITY
    for (const id of f.askedOf.keys()) {
      const p = this.#peers.get(id)
      if (p === undefined || p.rateBps <= 0) continue
      best = Math.min(best, ((p.requests.size * avgBlock) / p.rateBps) * 1000)
    }
    return Number.isFinite(best) ? best : this.#c.tuning.blockTimeoutMs / 4
  }

  /** Ask every peer whether it has these new blocks (rarity for rarest-first). */
  #askHaves(cids: CID[]): void {
    for (const peer of this.#activePeers()) void this.#sendWants(peer, cids, WANT_HAVE)
  }

  async #sendWants(peer: SessionPeer, cids: CID[], kind: typeof WANT_BLOCK | typeof WANT_HAVE): Promise<void> {
    for (let i = 0; i < cids.length; i += MAX_ENTRIES) {
      const wants = cids.slice(i, i + MAX_ENTRIES).map((cid) => ({ cid, kind }))
      await this.#send(peer, { t: 'want', wants })
    }
  }

  async #send(peer: SessionPeer, message: BlocksMessage): Promise<void> {
    if (peer.state !== 'active') return
    try {
      await peer.stream.write(encodeFrame(encodeMessage(message)), { signal: this.#signal })
    } catch (err) {
      if (!this.#signal.aborted) this.#drop(peer, 'dropped', (err as Error).message)
    }
  }

  /** Timeouts, the stall limit, progress reports. */
  #tick(): void {
    if (this.#signal.aborted) return
    const now = performance.now()
    for (const peer of this.#activePeers()) {
      if (peer.requests.size === 0) continue
      const first = Math.min(...peer.requests.values())
      const avgBlock = this.#fetchedBlocks > 0 ? this.#fetchedBytes / this.#fetchedBlocks : 256 * 1024
      const expected = peer.rateBps > 0 ? ((peer.requests.size * avgBlock) / peer.rateBps) * 1000 : 0
      if (now - first < Math.max(this.#c.tuning.blockTimeoutMs, 4 * expected)) continue
      peer.strikes++
      peer.window = Math.max(1, Math.floor(peer.window / 2))
      if (peer.strikes >= STRIKES_BEFORE_DROP) {
        this.#drop(peer, 'timed-out', `${peer.strikes} timeouts in a row`)
        continue
      }
      // Move its work to the others; it may pick up again once it answers.
      const cids = [...peer.requests.keys()].flatMap((key) => this.#inflight.get(key)?.cid ?? [])
      for (const key of peer.requests.keys()) this.#unask(key, peer.id)
      peer.requests.clear()
      this.#c.log.debug('peer timed out', { peerId: peer.id, moved: cids.length })
      if (cids.length > 0) void this.#send(peer, { t: 'cancel', cids })
    }
    this.#schedule()
    const timeout = this.#options.timeoutMs ?? this.#c.tuning.providerTimeoutMs
    if (Date.now() - this.#lastProgressAt > timeout && this.#inflight.size === 0 && this.#storing.size === 0) {
      const asked = this.#peers.size
      const secs = Math.round(timeout / 1000)
      const missing = this.#pending.keys().next().value
      this.#fail(
        new NoProvidersError(
          this.#holders.size === 0
            ? `no peer provides ${this.root}: asked ${asked} connected peer(s) and the DHT for ${secs} s`
            : `no peer has block ${missing} of ${this.root}: ${asked} peer(s) asked within ${secs} s`,
        ),
      )
      return
    }
    this.#report()
  }

  #checkDone(): void {
    if (this.#busy > 0 || this.#pending.size > 0 || this.#inflight.size > 0 || this.#storing.size > 0) return
    this.#report(true)
    this.#settle?.resolve()
  }

  #lastReport = 0

  #report(force = false): void {
    const now = performance.now()
    if (this.#options.onProgress === undefined || (!force && now - this.#lastReport < 200)) return
    this.#lastReport = now
    this.#options.onProgress(this.#progress())
  }

  #progress(): FetchProgress {
    const now = performance.now()
    const rate = (samples: Array<[number, number]>) => {
      while (samples.length > 0 && now - (samples[0] as [number, number])[0] > RATE_WINDOW_MS) samples.shift()
      if (samples.length === 0) return 0
      const span = Math.max(250, Math.min(RATE_WINDOW_MS, now - this.#startedAtPerf))
      return Math.round((samples.reduce((s, [, b]) => s + b, 0) / span) * 1000)
    }
    const rateBps = rate(this.#samples)
    const done = this.#fetchedBytes + this.#storedBytes
    const left = this.#totalBytes === undefined ? undefined : Math.max(0, this.#totalBytes - done)
    return {
      cid: this.root.toString(),
      ...(this.#totalBytes === undefined ? {} : { totalBytes: this.#totalBytes }),
      fetchedBytes: this.#fetchedBytes,
      fetchedBlocks: this.#fetchedBlocks,
      storedBytes: this.#storedBytes,
      storedBlocks: this.#storedBlocks,
      rateBps,
      ...(left !== undefined && rateBps > 0 ? { etaMs: Math.round((left / rateBps) * 1000) } : {}),
      peers: [...this.#peers.values()].map((p) => ({
        peerId: p.id,
        bytes: p.bytes,
        blocks: p.blocks,
        rateBps: p.state === 'active' ? rate(p.samples) : 0,
        state: p.state,
      })),
    }
  }

  readonly #startedAtPerf = performance.now()
}

function addTo(map: Map<string, Set<string>>, key: string, value: string): void {
  const set = map.get(key)
  if (set === undefined) map.set(key, new Set([value]))
  else set.add(value)
}

function oldest(f: Inflight): number {
  return Math.min(...f.askedOf.values())
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n))
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, signal).catch(() => {})
}
