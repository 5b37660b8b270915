/**
 * The contribution ledger (docs/protocols/ledger.md): what this node gave to and got from each
 * peer, in receipts both sides sign (exchange.ts) on per-device hash chains (chain-store.ts);
 * the chains of counterparties fetched and verified (crawler.ts); forks caught and proven
 * (fork-watch.ts, gossip.ts); and each peer's reputation as this node sees it (reputation.ts),
 * which orders upload turns and the swarm's choice of peers through the content service's seam
 * (core/contribution.ts).
 *
 * @example
 * ```ts
 * const { counterparties } = node.ledger.summary()
 * const rep = await node.ledger.reputation('bob', { explain: true })   // standing, gave, took, paths
 * const check = await node.ledger.verify('12D3KooW...')                 // fetch and verify its chain
 * ```
 */
import { Value } from '@sinclair/typebox/value'
import { LEDGER_FRAME_MAX_BYTES } from '../core/constants.ts'
import type { Contribution, ContributionSeam, ServiceKind } from '../core/contribution.ts'
import { InvalidInputError, NotFoundError, PeerUnreachableError } from '../core/errors.ts'
import { encodeFrame, readFrames } from '../core/framing.ts'
import type { IdentityDirectory } from '../core/identities.ts'
import { type ComponentLogger, errorFields, type Logger } from '../core/logger.ts'
import type { Startable } from '../core/service.ts'
import { publicKeyFromPeerId, type Signer } from '../core/signer.ts'
import { TokenBuckets } from '../core/token-buckets.ts'
import type { Net, ProtocolStream } from '../net/index.ts'
import type { Datastore } from '../store/datastore.ts'
import { type ChainEntry, ChainStore } from './chain-store.ts'
import type { VerifiedEntry } from './chain-sync.ts'
import { type LedgerConfig, ledgerConfig } from './config.ts'
import { Counters } from './counters.ts'
import { ChainCrawler } from './crawler.ts'
import { type ProposalOutcome, ReceiptExchange } from './exchange.ts'
import { type ForkProof, ForkWatch } from './fork-watch.ts'
import { LedgerGossip } from './gossip.ts'
import { counterpartyView, forkView, receiptView } from './present.ts'
import type { Receipt, SignedHalf } from './receipt.ts'
import { ReceiptGraph } from './receipt-graph.ts'
import { ReputationBook } from './reputation-book.ts'
import { Settlement } from './settlement.ts'
import type { ForkView, LedgerSummary, PeerReceipts, ReceiptView, ReputationView, VerifyView } from './views.ts'
import { decodeRequest, encodeMessage, LEDGER_PROTOCOL, type LedgerAnswer } from './wire.ts'

/** What the ledger uses of the identity service (or a fake in tests). */
export interface LedgerIdentity extends Pick<IdentityDirectory, 'self' | 'identityOf' | 'devicesOf'> {
  /** Contact names; without them only peer IDs and identity IDs are understood. */
  contacts?: { resolve(target: string): Promise<{ identity?: string; peerId?: string; contact?: string }> }
}

export interface LedgerComponents {
  net: Net
  datastore: Datastore
  /** Signs this device's halves; its peer ID is this node's. */
  signer: Signer
  logger: ComponentLogger
  identity: LedgerIdentity
  /** The service whose bytes are counted and whose upload turns follow reputation. */
  content: ContributionSeam
  /** Storage kept for others and mail held for others: receipts of kinds storage and mailbox. */
  storage: ContributionSeam
  mailbox: ContributionSeam
}

export interface LedgerEvents {
  'ledger:receipt': CustomEvent<ReceiptView>
  'ledger:fork': CustomEvent<ForkView>
}

/** The devices a target (peer ID, contact name or identity ID) stands for. */
export interface Resolved {
  devices: string[]
  identity?: string
  contact?: string
}

export class Ledger implements Startable {
  /** The ledger's side of the content service's seam. */
  readonly contribution: Contribution
  readonly #c: LedgerComponents
  readonly #config: LedgerConfig
  readonly #log: Logger
  readonly #me: string
  readonly #events = new EventTarget()
  readonly #chain: ChainStore
  readonly #counters: Counters
  readonly #forks: ForkWatch
  readonly #graph: ReceiptGraph
  readonly #book: ReputationBook
  readonly #exchange: ReceiptExchange
  readonly #settlement: Settlement
  readonly #crawler: ChainCrawler
  readonly #gossip: LedgerGossip
  readonly #requests: TokenBuckets
  readonly #stop = new AbortController()
  readonly #timers: Array<ReturnType<typeof setInterval>> = []
  #running = false
  #syncing: Promise<void> | undefined

  constructor(components: LedgerComponents, config: Partial<LedgerConfig> = {}) {
    this.#c = components
    this.#config = Value.Default(ledgerConfig, structuredClone(config)) as LedgerConfig
    const cfg = this.#config
    this.#log = components.logger.forComponent('lateral:ledger')
    this.#me = components.signer.peerId
    const ds = components.datastore
    this.#chain = new ChainStore(ds)
    this.#counters = new Counters(ds)
    this.#forks = new ForkWatch(ds, {
      seenMax: cfg.seenHalves,
      forksMax: cfg.forksMax,
      identityOf: (peer) => components.identity.identityOf(peer),
    })
    this.#graph = new ReceiptGraph(ds, cfg.graphEdges)
    this.#exchange = new ReceiptExchange(
      {
        net: components.net,
        agreements: TokenBuckets.perMinute(cfg.agreementsPerMinute, cfg.ratePeers),
        signer: components.signer,
        chain: this.#chain,
        counters: this.#counters,
        forks: this.#forks,
        identity: components.identity,
        refuses: (peer) => this.#forks.refuses(peer),
        onReceipt: (entry, receipt) => this.#receiptDone(entry, receipt),
        onFork: (proof) => this.#forkFound(proof, true),
        log: this.#log,
      },
      { timeoutMs: cfg.exchangeTimeoutMs, countWaitMs: cfg.countWaitMs },
    )
    this.#settlement = new Settlement(
      { counters: this.#counters, chain: this.#chain, exchange: this.#exchange, log: this.#log },
      cfg,
    )
    this.#book = new ReputationBook(
      {
        graph: this.#graph,
        me: this.#me,
        refuses: (peer) => this.#forks.refuses(peer),
        isNonSigner: (peer) => this.#settlement.isNonSigner(peer),
      },
      cfg,
    )
    this.#crawler = new ChainCrawler(
      { net: components.net, datastore: ds, onEntry: (_owner, e) => this.#fetched(e), log: this.#log },
      {
        pageEntries: cfg.pageEntries,
        syncEntries: cfg.syncEntries,
        syncPeers: cfg.syncPeers,
        timeoutMs: cfg.exchangeTimeoutMs,
      },
    )
    this.#requests = TokenBuckets.perMinute(cfg.requestsPerMinute, cfg.ratePeers)
    this.#gossip = new LedgerGossip({
      net: components.net,
      rate: TokenBuckets.perMinute(cfg.announcesPerMinute, cfg.ratePeers),
      onReceipt: (receipt) =>
        void this.#heard(receipt).catch((err) => this.#log.debug('gossiped receipt', errorFields(err))),
      onProof: (proof) =>
        void this.#forkFound(proof, false).catch((err) => this.#log.debug('gossiped proof', errorFields(err))),
      seen: (device, seq) => this.#forks.seen(device, seq),
      hasProof: (device, seq) => this.#forks.has(device, seq),
      log: this.#log,
    })
    const counters = this.#counters
    const settlement = this.#settlement
    const book = this.#book
    this.contribution = {
      gave: (peer, bytes, kind) => {
        counters.add(peer, kind, 'sent', bytes)
        if (this.#running) settlement.onGave(peer, kind)
      },
      got: (peer, bytes, kind) => counters.add(peer, kind, 'received', bytes),
      holding: (peer, bytes, kind) => {
        counters.setHeld(peer, kind, bytes)
        if (this.#running) settlement.onGave(peer, kind)
      },
      weight: (peer) => book.weight(peer),
      preference: (peer) => book.preference(peer),
      refuses: (peer) => this.#forks.refuses(peer),
    }
  }

  async start(): Promise<void> {
    await Promise.all([
      this.#chain.load(),
      this.#counters.load(),
      this.#forks.load(),
      this.#graph.load(),
      this.#crawler.load(),
    ])
    // Remember this chain's recent halves (and their counterparts) so that a fork against them is caught.
    for (const e of await this.#chain.latest(this.#config.recallEntries)) {
      this.#forks.observe(e.half)
      const proof = e.other === undefined ? undefined : this.#forks.observe(e.other)
      if (proof !== undefined) await this.#forkFound(proof, true)
    }
    await this.#c.net.handle(LEDGER_PROTOCOL, (stream) => this.#serve(stream), {
      maxInboundStreams: this.#config.inboundStreams,
      writeTimeoutMs: this.#config.exchangeTimeoutMs,
    })
    this.#gossip.start()
    for (const seam of [this.#c.content, this.#c.storage, this.#c.mailbox]) seam.setContribution(this.contribution)
    this.#running = true
    // The sweep's period is a resolution (a quarter of the receipt interval), not a limit.
    this.#every(Math.max(50, Math.floor(this.#config.receiptIntervalMs / 4)), () => this.#settlement.sweep())
    this.#every(this.#config.syncIntervalMs, () => void this.syncRound())
    this.#every(this.#config.flushIntervalMs, () => void this.#flush())
  }

  async stop(): Promise<void> {
    if (!this.#running && this.#timers.length === 0) return
    this.#running = false
    for (const t of this.#timers.splice(0)) clearInterval(t)
    for (const seam of [this.#c.content, this.#c.storage, this.#c.mailbox]) seam.setContribution(undefined)
    this.#stop.abort()
    this.#gossip.stop()
    await this.#c.net.unhandle(LEDGER_PROTOCOL).catch(() => {})
    await this.#settlement.stop()
    await this.#syncing?.catch(() => {})
    await this.#flush()
  }

  addEventListener<K extends keyof LedgerEvents>(type: K, listener: (evt: LedgerEvents[K]) => void): void {
    this.#events.addEventListener(type, listener as (evt: Event) => void)
  }

  removeEventListener<K extends keyof LedgerEvents>(type: K, listener: (evt: LedgerEvents[K]) => void): void {
    this.#events.removeEventListener(type, listener as (evt: Event) => void)
  }

  // ---- reading ----

  /** This device's chain (head, length) and, per counterparty, what was given and received. */
  summary(): LedgerSummary {
    const head = this.#chain.head
    const self = this.#c.identity.self()
    const counterparties = this.#chain
      .summaries()
      .map(counterpartyView)
      .sort((a, b) => b.lastAt - a.lastAt)
    return {
      peerId: this.#me,
      ...(self === '' ? {} : { identity: self }),
      ...(head === undefined ? {} : { head: { seq: head.seq, cid: head.cid.toString() } }),
      length: this.#chain.length,
      unconfirmed: counterparties.reduce((n, c) => n + c.unconfirmed, 0),
      counterparties,
      forks: this.forks(),
      graphEdges: this.#graph.size,
    }
  }

  /** The receipts with one counterparty (each device of a contact or identity), newest first. */
  async receiptsWith(target: string, limit = this.#config.listReceipts): Promise<PeerReceipts> {
    const r = await this.resolve(target)
    const n = Math.max(1, Math.min(limit, this.#config.listReceipts))
    const entries = (await Promise.all(r.devices.map((d) => this.#chain.entriesWith(d, n)))).flat()
    entries.sort((a, b) => b.seq - a.seq)
    return { target, ...withResolved(r), receipts: entries.slice(0, n).map(receiptView) }
  }

  forks(): ForkView[] {
    return this.#forks.proofs().map(forkView)
  }

  /** What this node thinks of a peer (or of each device of a person, together). */
  async reputation(target: string, options: { explain?: boolean } = {}): Promise<ReputationView> {
    const r = await this.resolve(target)
    return {
      target,
      ...withResolved(r),
      ...this.#book.view(r.devices, options.explain === true, (p) => this.#forks.proofAgainst(p)),
    }
  }

  /** Every peer this node has a reputation for (the Peers view's column); peers not listed are newcomers. */
  reputations(): ReputationView[] {
    return this.#book
      .known()
      .map((peer) => ({ target: peer, devices: [peer], ...this.#book.view([peer], false, () => undefined) }))
  }

  // ---- acting ----

  /** Propose a receipt to `peer` now for what was given to it (normally done every N MiB or T seconds). */
  settle(peer: string, kind: ServiceKind = 'blocks'): Promise<ProposalOutcome | undefined> {
    return this.#settlement.settle(peer, kind)
  }

  /** Fetch a peer's whole chain (up to `verifyEntries`), verify it, and report any fork found. */
  async verify(target: string): Promise<VerifyView> {
    const r = await this.resolve(target)
    if (r.devices.length !== 1) {
      throw new InvalidInputError(
        `${target} has ${r.devices.length} devices: verify one of them (${r.devices.join(', ')})`,
      )
    }
    const peer = r.devices[0] as string
    let complete = 0
    let unconfirmed = 0
    const result = await this.#crawler
      .sync(peer, this.#stop.signal, {
        fromStart: true,
        maxEntries: this.#config.verifyEntries,
        onEntry: (e) => {
          if (e.other === undefined) unconfirmed++
          else complete++
        },
      })
      .catch((err: Error) => {
        throw new PeerUnreachableError(`cannot fetch the chain of ${peer}: ${err.message}`)
      })
    const forks = this.#forks.proofs().filter((p) => p.offender === peer)
    return {
      peer,
      length: result.length,
      verified: result.verified,
      complete,
      unconfirmed,
      valid: result.error === undefined && forks.length === 0,
      ...(result.error === undefined ? {} : { error: result.error }),
      forks: forks.map(forkView),
    }
  }

  /** One round of fetching the chains of counterparties. */
  syncRound(): Promise<void> {
    this.#syncing ??= this.#crawler
      .round(
        this.#chain.summaries().map((s) => s.peer),
        this.#stop.signal,
      )
      .finally(() => {
        this.#syncing = undefined
      })
    return this.#syncing
  }

  /** Fetch one peer's chain from where it was left (tests, and after a receipt with it). */
  sync(peer: string): Promise<unknown> {
    return this.#crawler.sync(peer, this.#stop.signal)
  }

  /** The devices a target stands for: a peer ID, or a contact or identity and its devices. */
  async resolve(target: string): Promise<Resolved> {
    const r = (await this.#c.identity.contacts?.resolve(target)) ?? { peerId: target }
    if (r.identity !== undefined) {
      const known = this.#c.identity.devicesOf(r.identity) ?? []
      const seen = this.#chain
        .summaries()
        .filter((s) => s.identity === r.identity)
        .map((s) => s.peer)
      const devices = [...new Set([...known, ...seen])].filter((d) => d !== this.#me)
      if (devices.length === 0) throw new NotFoundError(`no device of ${target} is known here`)
      return { devices, identity: r.identity, ...(r.contact === undefined ? {} : { contact: r.contact }) }
    }
    const peer = r.peerId ?? target
    publicKeyFromPeerId(peer)
    const identity = this.#c.identity.identityOf(peer)
    return { devices: [peer], ...(identity === undefined ? {} : { identity }) }
  }

  // ---- inside ----

  async #serve(stream: ProtocolStream): Promise<void> {
    const from = stream.remotePeer
    let answer: LedgerAnswer | undefined
    try {
      for await (const frame of readFrames(stream, LEDGER_FRAME_MAX_BYTES)) {
        const request = decodeRequest(frame)
        if (!this.#requests.take(from))
          answer = { t: 'refused', code: 'rate-limited', error: 'too many ledger requests' }
        else if (request.t === 'chain')
          answer = { t: 'page', ...(await this.#chain.page(request.from, request.max, LEDGER_FRAME_MAX_BYTES - 1024)) }
        else if (!this.#running) answer = { t: 'refused', code: 'unavailable', error: 'the ledger is stopping' }
        else answer = await this.#exchange.answer(from, request.half)
        break
      }
    } catch (err) {
      if (err instanceof InvalidInputError) this.#c.net.penalize(from, 1, `bad ledger request: ${err.message}`)
      answer = { t: 'refused', code: 'invalid', error: (err as Error).message }
    }
    if (answer === undefined) return
    try {
      await stream.write(encodeFrame(encodeMessage(answer)))
      await stream.close()
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  async #receiptDone(entry: ChainEntry, receipt: Receipt): Promise<void> {
    this.#graph.addReceipt(receipt)
    this.#emit('ledger:receipt', receiptView(entry))
    if (this.#config.announceReceipts) void this.#gossip.announce(receipt)
  }

  /** A receipt gossiped by one of its parties. */
  async #heard(receipt: Receipt): Promise<void> {
    // Every peer that saw both receipts finds a fork between them: only a party to one of the two
    // halves spreads the proof (to the peers that missed a receipt), not each peer that found it.
    const party = (h: SignedHalf) => h.payload.peer === this.#me
    for (const half of [receipt.proposal, receipt.agreement]) {
      const proof = this.#forks.observe(half)
      if (proof !== undefined) await this.#forkFound(proof, party(proof.a) || party(proof.b))
    }
    await this.#take(receipt)
  }

  /** An entry of another chain, verified. */
  async #fetched(e: VerifiedEntry): Promise<void> {
    for (const half of e.other === undefined ? [e.half] : [e.half, e.other]) {
      const proof = this.#forks.observe(half)
      if (proof !== undefined) await this.#forkFound(proof, true)
    }
    if (e.other === undefined) return
    const receipt =
      e.half.payload.link === undefined
        ? { proposal: e.half, agreement: e.other }
        : { proposal: e.other, agreement: e.half }
    await this.#take(receipt)
  }

  /** A verified receipt from elsewhere: into the graph if it can carry reputation to this node. */
  async #take(receipt: Receipt): Promise<void> {
    const p = receipt.proposal.payload
    if (p.dev === this.#me) await this.#completeOwn(receipt.proposal, receipt.agreement)
    if (this.#relevant(p.dev) || this.#relevant(p.peer)) this.#graph.addReceipt(receipt)
  }

  /** An agreement to a proposal of this node that never came back on the exchange's stream. */
  async #completeOwn(proposal: SignedHalf, agreement: SignedHalf): Promise<void> {
    const mine = await this.#chain.get(proposal.payload.seq)
    if (mine === undefined || mine.other !== undefined || !mine.half.cid.equals(proposal.cid)) return
    const done = await this.#chain.complete(mine.seq, agreement)
    if (done !== undefined) await this.#receiptDone(done, { proposal, agreement })
  }

  #relevant(device: string): boolean {
    return device === this.#me || (this.#chain.summary(device)?.receipts ?? 0) > 0
  }

  /** Keep a proof; when it is new, tell the dashboard and, if this node found it, gossip it. */
  async #forkFound(proof: ForkProof, spread: boolean): Promise<void> {
    if (!(await this.#forks.add(proof))) return
    this.#log.warn('fork proven: this device signed two halves at one position; refused from now on', {
      offender: proof.offender,
      seq: proof.seq,
    })
    this.#emit('ledger:fork', forkView(proof))
    if (spread) await this.#gossip.spread(proof)
  }

  #emit(type: keyof LedgerEvents, detail: unknown): void {
    this.#events.dispatchEvent(new CustomEvent(type, { detail }))
  }

  #every(ms: number, task: () => void): void {
    const t = setInterval(task, ms)
    t.unref?.()
    this.#timers.push(t)
  }

  async #flush(): Promise<void> {
    try {
      await this.#counters.flush()
      await this.#graph.flush()
    } catch (err) {
      this.#log.warn('ledger counts not written', errorFields(err))
    }
  }
}

function withResolved(r: Resolved): { devices: string[]; identity?: string; contact?: string } {
  return {
    devices: r.devices,
    ...(r.identity === undefined ? {} : { identity: r.identity }),
    ...(r.contact === undefined ? {} : { contact: r.contact }),
  }
}
