/**
 * One download session: fetch blocks from all the peers that have them at once.
 *
 * - In `dag` mode (a get or pin) the DAG is walked breadth-first: a block's links become wanted
 *   as soon as it is stored; blocks already in the store are walked without fetching (a stopped
 *   download resumes). `run()` resolves when every block is stored.
 * - In `blocks` mode (ls) only the blocks asked for with `block()` are fetched, one at a time
 *   as the reader needs them, through the same peers and the same provider search.
 * - Peers come from the connected peers and the DHT (provider-search.ts); each has a request
 *   window sized from its measured throughput and latency (session-peer.ts); the scheduler
 *   gives each the rarest blocks first and duplicates late requests in the end-game
 *   (scheduler.ts); what is wanted and who has it is the want-list (want-list.ts). Counts and
 *   progress events are in download-tally.ts, local readers waiting for blocks in
 *   block-waiters.ts.
 * - A peer that times out repeatedly, disconnects or resets its stream has its requests moved
 *   to the others and is not penalised; one that breaks the protocol (provider-messages.ts) is
 *   dropped and penalised; one whose block does not match its CID is dropped at once and
 *   reported.
 * - Per peer, whatever it sends: at most `windowMax` (32) requests, fixed-size rate counters,
 *   and one have or dont-have record per block the session wants (answers about other CIDs are
 *   ignored). A peer that leaves keeps only its tally (bytes, blocks, state) for the result.
 * - Every block is hashed before it is stored. Memory holds the in-flight blocks (windows are
 *   capped, `storeQueue` blocks are written at once) and a few dozen bytes per wanted CID and
 *   per peer that has it, whatever the size of the file or what peers send.
 */
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { AbortedError, InvalidInputError, NoProvidersError } from '../core/errors.ts'
import { errorFields } from '../core/logger.ts'
import { joinParts, type ReceivedBlock } from './block-frames.ts'
import { BlockWaiters } from './block-waiters.ts'
import {
  BLOCKS_PROTOCOL,
  type BlocksMessage,
  MAX_ENTRIES,
  WANT_BLOCK,
  WANT_HAVE,
  type WantKind,
} from './blocks-message.ts'
import { dagSize, linksOf } from './dag.ts'
import { DownloadTally } from './download-tally.ts'
import type { FetchResult, PeerState, PeerTally } from './fetch-progress.ts'
import { DEFAULT_CHUNK_SIZE } from './import-options.ts'
import { type ProviderMessage, readProviderMessages } from './provider-messages.ts'
import { searchProviders } from './provider-search.ts'
import { pickBlocks } from './scheduler.ts'
import { type SessionLimits, sessionLimits } from './session-limits.ts'
import { SessionPeer } from './session-peer.ts'
import type { SessionBlockstore, SessionComponents, SessionOptions, SessionSizes } from './session-types.ts'
import { hashOf, isSupported } from './verify.ts'
import { WantList } from './want-list.ts'

export type {
  SessionBlockstore,
  SessionComponents,
  SessionOptions,
  SessionSizes,
  SwarmTuning,
} from './session-types.ts'

/** How often timeouts and the stall limit are checked, ms (a resolution, finer than any timeout). */
const TICK_MS = 250
/** Penalty points for a message that breaks the blocks protocol. */
const VIOLATION_PENALTY = 1
/** Times one peer may move to a new stream in a session (#move). */
const MAX_MOVES = 20
/** Wait before a moved peer's first new stream, ms, doubled after each failed try up to the max. */
const MOVE_RETRY_MS = 1_000
const MOVE_RETRY_MAX_MS = 8_000
/** Links whose presence in the store is asked at once when a node is walked (#walk). */
const LINK_CHECK_BATCH = 64

export class SwarmSession {
  readonly root: CID
  readonly mode: 'dag' | 'blocks'
  /** Resolves once the session is closed. */
  readonly closed: Promise<void>
  readonly #c: SessionComponents
  readonly #options: SessionOptions
  readonly #limits: SessionLimits
  readonly #abort = new AbortController()
  readonly #wants = new WantList()
  readonly #peers = new Map<string, SessionPeer>()
  readonly #joining = new Set<string>()
  /** Blocks being written to the store. */
  readonly #stores = new Set<Promise<void>>()
  /** Blocks being hashed on a worker thread (then taken or refused, then stored). */
  readonly #verifying = new Set<Promise<void>>()
  /** Peers that said they have, or sent, a block the session wanted. */
  readonly #holders = new Set<string>()
  /** Peers dropped without their fault that may join again (#move): when to try, and the wait after. */
  readonly #movable = new Map<string, { at: number; waitMs: number }>()
  /** How often each peer moved. */
  readonly #moves = new Map<string, number>()
  readonly #waiters = new BlockWaiters()
  readonly #startedAt = Date.now()
  readonly #startedAtPerf = performance.now()
  readonly #tally: DownloadTally
  #busy = 0
  /** The largest block received (budgets relayed connections' data limits, #bulkUnit). */
  #largestBlock = 0
  #lastProgressAt = Date.now()
  #settle: { resolve: () => void; reject: (err: Error) => void } | undefined
  #failed: Error | undefined
  #opened = false
  #searching = false
  #isClosed = false
  #ticker: ReturnType<typeof setInterval> | undefined
  #markClosed: () => void = () => {}

  constructor(root: CID, components: SessionComponents, options: SessionOptions = {}) {
    this.root = root
    this.mode = options.mode ?? 'dag'
    this.#c = components
    this.#options = options
    this.#limits = sessionLimits(components.tuning)
    this.#tally = new DownloadTally(root, this.#startedAtPerf, options.onProgress)
    this.closed = new Promise((resolve) => (this.#markClosed = resolve))
  }

  get #signal(): AbortSignal {
    return this.#abort.signal
  }

  /** Run a `dag` session to the end. Resolves when every block is stored. */
  async run(): Promise<FetchResult> {
    this.#options.signal?.throwIfAborted()
    const finished = new Promise<void>((resolve, reject) => {
      this.#settle = { resolve, reject }
    })
    finished.catch(() => {}) // awaited below; a failure before then is not unhandled
    this.#open()
    try {
      this.#busy++
      try {
        await this.#want(this.root, true)
      } finally {
        this.#busy--
      }
      this.#checkDone()
      await finished
      return {
        ...this.#tally.progress(this.#peerTallies()),
        blocks: this.#tally.blocks,
        bytes: this.#tally.bytes,
        durationMs: Date.now() - this.#startedAt,
      }
    } finally {
      await this.close()
    }
  }

  /**
   * One block's bytes: from the store, or once this session has stored it. In `blocks` mode the
   * block is fetched if missing; in `dag` mode it is waited for (the walk reaches it), which is
   * how a reader streams a file while its download runs.
   */
  async block(cid: CID, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    if (this.#failed !== undefined) throw this.#failed
    if (cid.multihash.code === 0x00) return cid.multihash.digest
    const wait = this.#waiters.wait(cid.toString(), options.signal)
    try {
      if (await this.#c.blockstore.has(cid)) return await this.#c.blockstore.getBytes(cid)
      if (!this.#isClosed && this.mode === 'blocks') {
        this.#open()
        if (await this.#want(cid)) {
          this.#askHaves([cid])
          this.#schedule()
        }
      }
      const bytes = this.#isClosed ? undefined : await wait.promise
      return bytes ?? (await this.#c.blockstore.getBytes(cid))
    } finally {
      wait.cancel()
    }
  }

  /** Stop the session: a running `run()` rejects with `err`. */
  cancel(err: Error): void {
    this.#fail(err)
    void this.close()
  }

  /** End the session: peers' streams are closed; readers still waiting read the store. */
  async close(): Promise<void> {
    if (this.#isClosed) return
    this.#isClosed = true
    clearInterval(this.#ticker)
    this.#options.signal?.removeEventListener('abort', this.#onAbort)
    this.#c.net.removeEventListener('peer:connect', this.#onConnect)
    this.#abort.abort()
    this.#waiters.end(this.#failed)
    await Promise.all([...this.#peers.values()].map((p) => p.close()))
    // Blocks the store is hashing and writing finish before the session reports closed (and so
    // before the node can close its store).
    await Promise.allSettled([...this.#verifying])
    this.#markClosed()
  }

  sizes(): SessionSizes {
    let requests = 0
    let activePeers = 0
    for (const p of this.#peers.values()) {
      requests += p.requests.size
      if (p.active) activePeers++
    }
    return {
      ...this.#wants.sizes(),
      peers: this.#peers.size,
      activePeers,
      requests,
      holders: this.#holders.size,
      waiters: this.#waiters.size,
    }
  }

  readonly #onAbort = () => this.#fail(new AbortedError(`fetching ${this.root} was cancelled`))
  readonly #onConnect = (evt: CustomEvent<{ peerId: string }>) => void this.#join(evt.detail.peerId)

  #open(): void {
    if (this.#opened) return
    this.#opened = true
    this.#options.signal?.addEventListener('abort', this.#onAbort, { once: true })
    this.#c.net.addEventListener('peer:connect', this.#onConnect)
    this.#ticker = setInterval(() => this.#tick(), TICK_MS)
  }

  #fail(err: Error): void {
    if (this.#failed !== undefined) return
    this.#failed = err
    this.#abort.abort()
    this.#settle?.reject(err)
    this.#waiters.end(err)
  }

  // --- the DAG ---------------------------------------------------------------------------

  /**
   * A CID became known: walk it if stored, else want it. True when it became pending. `stored`:
   * whether the store has the block, when the caller has already asked it.
   */
  async #want(cid: CID, isRoot = false, stored?: boolean): Promise<boolean> {
    const key = cid.toString()
    if (this.#wants.has(key)) return false
    if (!isSupported(cid)) throw new InvalidInputError(`cannot fetch ${cid}: unsupported codec or hash`)
    if (cid.multihash.code === 0x00) {
      // Identity CID: the bytes are in the CID itself.
      await this.#walk(cid, cid.multihash.digest, isRoot, false)
      return false
    }
    if (stored ?? (await this.#c.blockstore.has(cid))) {
      // A raw block has no links: a resumed download needs its size, not its bytes read back.
      if (!isRoot && cid.code === raw.code && this.#c.blockstore.size !== undefined) {
        this.#tally.found(await this.#c.blockstore.size(cid))
      } else {
        await this.#walk(cid, await this.#c.blockstore.getBytes(cid), isRoot, false)
      }
      return false
    }
    if (this.#wants.has(key)) return false
    // The stall clock starts when there is something to wait for.
    if (this.#wants.empty) this.#lastProgressAt = Date.now()
    this.#wants.add(cid)
    this.#startSearch()
    return true
  }

  /** A block is here (stored before, or just fetched and stored): account for it and go on to its links. */
  async #walk(cid: CID, bytes: Uint8Array, isRoot: boolean, fetched: boolean): Promise<void> {
    if (!fetched) this.#tally.found(bytes.length)
    if (this.mode === 'blocks') return
    if (isRoot) this.#tally.totalBytes = dagSize(cid, bytes)
    if (isRoot && this.#options.recursive === false) return
    // The store is asked about a batch of links at once, and the missing ones are asked of the
    // peers before the next batch: one check after another held the first request of a 1 MiB-
    // chunked 256 MiB file back by 110-180 ms. Wanted in DAG order all the same.
    const links = linksOf(cid, bytes)
    for (let i = 0; i < links.length; i += LINK_CHECK_BATCH) {
      const batch = links.slice(i, i + LINK_CHECK_BATCH)
      const stored = await Promise.all(
        batch.map((link) =>
          this.#wants.has(link.toString()) || link.multihash.code === 0x00 ? undefined : this.#c.blockstore.has(link),
        ),
      )
      const fresh: CID[] = []
      for (const [k, link] of batch.entries()) if (await this.#want(link, false, stored[k])) fresh.push(link)
      if (fresh.length > 0) {
        this.#askHaves(fresh)
        this.#schedule()
      }
    }
  }

  // --- peers -----------------------------------------------------------------------------

  #startSearch(): void {
    if (this.#searching || this.#signal.aborted) return
    this.#searching = true
    searchProviders(
      { net: this.#c.net, log: this.#c.log },
      this.root,
      this.#c.tuning.providerSearchIntervalMs,
      (peerId, dial) => void this.#join(peerId, dial),
      this.#signal,
    )
  }

  #activePeers(): SessionPeer[] {
    return [...this.#peers.values()].filter((p) => p.active)
  }

  async #join(peerId: string, dial = false): Promise<void> {
    const known = this.#peers.get(peerId)
    if (this.#signal.aborted || this.#joining.has(peerId)) return
    if (known !== undefined && (known.active || !this.#movable.has(peerId))) return
    if (peerId === this.#c.net.peerId || this.#c.isBanned(peerId)) return
    if (this.#activePeers().length >= this.#c.tuning.maxPeers) return
    this.#joining.add(peerId)
    try {
      const signal = AbortSignal.any([this.#signal, AbortSignal.timeout(this.#c.tuning.blockTimeoutMs)])
      // Not a dial the user asked for: a peer hung up on stays refused.
      if (dial) await this.#c.net.connect(peerId, { signal, respectHold: true })
      // Bulk: on a direct connection where there is one; over a relay only within its data limit.
      const stream = await this.#c.net.openStream(peerId, BLOCKS_PROTOCOL, { signal, bulk: true })
      if (this.#signal.aborted) {
        stream.abort(new Error('session over'))
        return
      }
      const peer = new SessionPeer(peerId, stream, this.#startedAtPerf, this.#limits)
      // A peer back on another connection keeps what it delivered before.
      peer.bytes = known?.bytes ?? 0
      peer.blocks = known?.blocks ?? 0
      this.#movable.delete(peerId)
      this.#peers.set(peerId, peer)
      void this.#read(peer)
      // Ask what it has of everything still wanted (the root first), then give it work.
      await this.#sendWants(peer, this.#wants.outstanding(), WANT_HAVE)
      this.#schedule()
    } catch (err) {
      this.#c.log.debug('peer not joined to session', { peerId, cid: this.root.toString(), ...errorFields(err) })
    } finally {
      this.#joining.delete(peerId)
    }
  }

  /** Read a peer's messages until it or the session stops; only protocol violations cost it points. */
  async #read(peer: SessionPeer): Promise<void> {
    const end = await readProviderMessages(
      peer.stream,
      async (message) => {
        await this.#onMessage(peer, message)
        return peer.active
      },
      (cid) => peer.requests.has(cid.toString()),
      (cid, length) => hashOf(cid) !== undefined && this.#c.blockstore.checksOffThread?.(length) === true,
    )
    if (this.#signal.aborted || !peer.active) return
    if (end.kind === 'violation') this.#violation(peer, end.error)
    // Its stream ended: most often its connection did (a relayed one closed once direct).
    else if (end.kind === 'closed') this.#move(peer, end.reason)
    else if (end.kind === 'failed') this.#move(peer, end.error.message)
  }

  /**
   * Drop a peer whose stream or connection ended without its fault (a relayed connection closed
   * once direct or its relay gone, a relay's data limit spent): it joins again on a new stream
   * while it is connected (#retryMoved) or when the provider search names it again, at most
   * MAX_MOVES times per session. Whichever notices first, the reader or a write, moves it.
   */
  #move(peer: SessionPeer, reason: string): void {
    if (!peer.active) return
    this.#drop(peer, 'dropped', reason)
    const moves = (this.#moves.get(peer.id) ?? 0) + 1
    this.#moves.set(peer.id, moves)
    if (moves <= MAX_MOVES) this.#movable.set(peer.id, { at: Date.now() + MOVE_RETRY_MS, waitMs: MOVE_RETRY_MS })
  }

  /** The block size a relay's data limit is budgeted in: the largest seen, at least a default chunk. */
  #bulkUnit(): number {
    return Math.max(DEFAULT_CHUNK_SIZE, this.#largestBlock)
  }

  /** Moved peers whose time has come join again if still connected (on the best connection then). */
  #retryMoved(now: number): void {
    const due = [...this.#movable].filter(([, m]) => m.at <= now)
    if (due.length === 0) return
    for (const [, m] of due) {
      m.waitMs = Math.min(MOVE_RETRY_MAX_MS, m.waitMs * 2)
      m.at = now + m.waitMs
    }
    void this.#c.net
      .connections()
      .then((conns) => {
        for (const [peerId] of due) if (conns.some((c) => c.peerId === peerId)) void this.#join(peerId)
      })
      .catch(() => {})
  }

  #violation(peer: SessionPeer, err: Error): void {
    if (this.#signal.aborted || !peer.active) return
    this.#c.net.penalize(peer.id, VIOLATION_PENALTY, `bad blocks message: ${err.message}`)
    this.#drop(peer, 'dropped', err.message)
  }

  async #onMessage(peer: SessionPeer, message: ProviderMessage): Promise<void> {
    switch (message.t) {
      case 'have': {
        // Answers about blocks this session does not want are ignored (and cost nothing).
        let wanted = 0
        for (const cid of message.cids) if (this.#wants.noteHave(cid.toString(), peer.id)) wanted++
        if (wanted === 0) return
        this.#holders.add(peer.id)
        this.#lastProgressAt = Date.now()
        this.#schedule()
        return
      }
      case 'dont-have':
        for (const cid of message.cids) {
          const key = cid.toString()
          if (!this.#wants.noteLack(key, peer.id)) continue
          if (peer.requests.delete(key)) this.#wants.unassign(key, peer.id)
        }
        this.#schedule()
        return
      case 'block':
        await this.#onBlock(peer, message)
        return
    }
  }

  async #onBlock(peer: SessionPeer, block: ReceivedBlock): Promise<void> {
    const { cid, length } = block
    const key = cid.toString()
    const sentAt = peer.requests.get(key)
    if (sentAt === undefined) return // cancelled or never asked for: ignore the copy
    this.#largestBlock = Math.max(this.#largestBlock, length)
    await this.#c.downloadRate.take(length, this.#signal)
    // Hashed as it arrived (block-frames.ts), before anything else looks at it...
    if (block.matches !== undefined) return this.#onChecked(peer, cid, key, sentAt, block.matches, block.parts, length)
    // ...or by the store as it writes it, off the event loop, while this stream reads on; then
    // taken (or the peer dropped) as above, already stored. A bounded number at once
    // (storeQueue), each also counted in its peer's window.
    const store = this.#c.blockstore as Required<Pick<SessionBlockstore, 'putChecked'>>
    const { matches, stored } = store.putChecked(cid, block.parts)
    // Taken (the next blocks asked for) as soon as the digest is in, while the file is written.
    const checked = matches.then(
      async (ok) => {
        if (this.#signal.aborted || !peer.active) return // dropped meanwhile: nothing more of it is taken
        if (!peer.requests.has(key)) return // cancelled or moved meanwhile: as a late copy, ignored
        await this.#onChecked(peer, cid, key, sentAt, ok, block.parts, length, stored)
      },
      (err: Error) => this.#fail(err),
    )
    const settled = Promise.allSettled([checked, stored]).then(() => {})
    this.#verifying.add(settled)
    void settled.finally(() => this.#verifying.delete(settled))
    while (this.#verifying.size >= this.#limits.storeQueue && !this.#signal.aborted) await Promise.race(this.#verifying)
  }

  /**
   * A block that was asked of `peer` arrived and was hashed: drop the peer, or take the block
   * (`stored`: the store hashed it and is writing it; settles once it is in place).
   */
  async #onChecked(
    peer: SessionPeer,
    cid: CID,
    key: string,
    sentAt: number,
    matches: boolean,
    parts: Uint8Array[],
    length: number,
    stored?: Promise<void>,
  ): Promise<void> {
    if (!matches) {
      this.#c.log.warn('peer sent a corrupt block', { peerId: peer.id, cid: key })
      this.#c.reportCorrupt(peer.id, cid)
      this.#drop(peer, 'corrupt', `block ${key} does not match its CID`)
      return
    }
    this.#c.onReceived?.(peer.id, length)
    peer.requests.delete(key)
    this.#holders.add(peer.id)
    peer.measure(length, sentAt, this.#tally.avgBlock(length))
    this.#tally.arrived(length)
    const flight = this.#wants.arrived(key)
    if (flight === undefined) return // another peer's copy won
    for (const other of flight.askedOf.keys()) {
      if (other === peer.id) continue
      const p = this.#peers.get(other)
      if (p === undefined || !p.requests.delete(key)) continue
      void this.#send(p, { t: 'cancel', cids: [cid] })
    }
    this.#busy++
    // Ask for the next blocks at once, and store this one in the background so the stream
    // keeps flowing; a bounded number of stores at once.
    this.#schedule()
    const storing = this.#store(peer, cid, key, parts, length, stored)
    this.#stores.add(storing)
    void storing.finally(() => this.#stores.delete(storing))
    while (this.#stores.size >= this.#limits.storeQueue && !this.#signal.aborted) await Promise.race(this.#stores)
  }

  async #store(
    peer: SessionPeer,
    cid: CID,
    key: string,
    parts: Uint8Array[],
    length: number,
    stored: Promise<void> | undefined,
  ): Promise<void> {
    try {
      if (stored === undefined) await this.#c.blockstore.put(cid, parts)
      else await stored
      this.#tally.fetched(length)
      peer.bytes += length
      peer.blocks++
      this.#lastProgressAt = Date.now()
      // One buffer only where something reads it: a waiting reader, or a node's links.
      const isRoot = cid.equals(this.root)
      const needBytes = this.#waiters.waitsFor(key) || (this.mode === 'dag' && (isRoot || cid.code !== raw.code))
      const data = needBytes ? joinParts(parts, length) : undefined
      // The store has the bytes; where nothing here reads them on, their buffers go back now
      // rather than at the next garbage collection (a download's received chunks otherwise
      // pile up by tens of MiB between collections).
      if (data === undefined || data !== parts[0]) this.#c.net.releaseReceived(parts)
      if (data !== undefined) this.#waiters.stored(key, data)
      if (data !== undefined) await this.#walk(cid, data, isRoot, true)
    } catch (err) {
      this.#fail(err as Error)
      return
    } finally {
      this.#wants.settled(key)
      this.#busy--
    }
    this.#report()
    this.#schedule()
    this.#checkDone()
  }

  /** Drop a peer from the session; its outstanding requests go back to the others. */
  #drop(peer: SessionPeer, state: PeerState, reason: string): void {
    if (!peer.active) return
    peer.state = state
    this.#c.log.debug('peer left session', { peerId: peer.id, cid: this.root.toString(), state, reason })
    for (const key of peer.requests.keys()) this.#wants.unassign(key, peer.id)
    peer.requests.clear()
    this.#wants.forgetPeer(peer.id)
    void peer.close()
    this.#schedule()
  }

  // --- scheduling ------------------------------------------------------------------------

  #schedule(): void {
    if (this.#signal.aborted) return
    const ctx = {
      wants: this.#wants,
      limits: this.#limits,
      peer: (id: string) => this.#peers.get(id),
      avgBlock: this.#tally.avgBlock(),
      fallbackMs: this.#c.tuning.blockTimeoutMs / 4,
    }
    // Peers the ledger prefers choose first, then the fastest.
    const tier = (id: string) => this.#c.preference?.(id) ?? 0
    const peers = this.#activePeers().sort((a, b) => tier(b.id) - tier(a.id) || b.rateBps - a.rateBps)
    for (const peer of peers) {
      const free = peer.room(this.#bulkUnit())
      if (free <= 0) continue
      const picks = pickBlocks(peer, free, ctx)
      if (picks.length === 0) continue
      const now = performance.now()
      for (const cid of picks) {
        this.#wants.assign(cid, peer.id, now)
        peer.requests.set(cid.toString(), now)
      }
      void this.#sendWants(peer, picks, WANT_BLOCK)
    }
  }

  /** Ask every peer whether it has these new blocks (rarity for rarest-first). */
  #askHaves(cids: CID[]): void {
    for (const peer of this.#activePeers()) void this.#sendWants(peer, cids, WANT_HAVE)
  }

  async #sendWants(peer: SessionPeer, cids: CID[], kind: WantKind): Promise<void> {
    for (let i = 0; i < cids.length; i += MAX_ENTRIES) {
      const wants = cids.slice(i, i + MAX_ENTRIES).map((cid) => ({ cid, kind }))
      await this.#send(peer, { t: 'want', wants })
    }
  }

  async #send(peer: SessionPeer, message: BlocksMessage): Promise<void> {
    const err = await peer.send(message, this.#signal)
    // A write fails only when the stream or its connection is gone: never the peer's fault.
    if (err !== undefined && !this.#signal.aborted) this.#move(peer, err.message)
  }

  /** Timeouts, the stall limit, progress reports. */
  #tick(): void {
    if (this.#signal.aborted) return
    this.#retryMoved(Date.now())
    const now = performance.now()
    const avgBlock = this.#tally.avgBlock()
    for (const peer of this.#activePeers()) {
      if (peer.limitReached(this.#bulkUnit())) {
        this.#move(peer, "its relay's data limit is reached")
        continue
      }
      if (peer.requests.size === 0) continue
      const waited = now - peer.oldestRequest()
      if (waited < Math.max(this.#c.tuning.blockTimeoutMs, 4 * peer.expectedMs(avgBlock))) continue
      if (peer.strike()) {
        this.#drop(peer, 'timed-out', `${peer.strikes} timeouts in a row`)
        continue
      }
      // Move its work to the others; it may pick up again once it answers.
      const cids = [...peer.requests.keys()].flatMap((key) => this.#wants.inflight.get(key)?.cid ?? [])
      for (const key of peer.requests.keys()) this.#wants.unassign(key, peer.id)
      peer.requests.clear()
      this.#c.log.debug('peer timed out', { peerId: peer.id, moved: cids.length })
      if (cids.length > 0) void this.#send(peer, { t: 'cancel', cids })
    }
    this.#schedule()
    const timeout = this.#options.timeoutMs ?? this.#c.tuning.providerTimeoutMs
    const wants = this.#wants
    const stalled = wants.pending.size > 0 && wants.inflight.size === 0 && wants.storing.size === 0
    if (stalled && Date.now() - this.#lastProgressAt > timeout) {
      const asked = this.#peers.size
      const secs = Math.round(timeout / 1000)
      const missing = wants.pending.keys().next().value
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
    if (this.mode !== 'dag' || this.#busy > 0 || !this.#wants.empty) return
    this.#report(true)
    this.#settle?.resolve()
  }

  #report(force = false): void {
    this.#tally.report(() => this.#peerTallies(), force)
  }

  #peerTallies(): PeerTally[] {
    const now = performance.now()
    return [...this.#peers.values()].map((p) => p.tally(now))
  }
}
