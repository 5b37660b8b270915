/**
 * The swarm engine: serves `/lateral/blocks/1.0.0` and runs download sessions, sharing the
 * node's upload slots, rate limits and the record of peers caught sending corrupt blocks.
 */
import type { CID } from 'multiformats/cid'
import { BLOCKS_CLOSE_GRACE_MS } from '../core/constants.ts'
import type { Contribution } from '../core/contribution.ts'
import { AbortedError } from '../core/errors.ts'
import { encodeFrame, readFrames } from '../core/framing.ts'
import type { Logger } from '../core/logger.ts'
import type { Net, ProtocolStream } from '../net/types.ts'
import { BLOCKS_PROTOCOL, decodeMessage, encodeMessage, MAX_FRAME_BYTES, WANT_HAVE } from './blocks-message.ts'
import type { FetchOptions, FetchResult } from './fetch-progress.ts'
import { BlocksServer, type ServedTally, type ServerInit } from './swarm-server.ts'
import { type SessionBlockstore, type SessionOptions, SwarmSession, type SwarmTuning } from './swarm-session.ts'
import { ByteRate } from './throttle.ts'
import { WeightedRate, WeightedSlots } from './weighted-slots.ts'

export interface SwarmInit extends SwarmTuning, ServerInit {
  /** Bytes per second sent to all peers together; 0 = unlimited. */
  uploadLimit: number
  /** Bytes per second received from all peers together; 0 = unlimited. */
  downloadLimit: number
  /** Blocks being sent at once, across peers (taken in turn, one block per turn). */
  uploadSlots: number
  /** Corrupt blocks after which a peer is refused (served nothing, asked nothing). */
  banAfter: number
}

export interface SwarmComponents {
  net: Net
  blockstore: SessionBlockstore
  logger: Logger
}

/** Penalty points for one corrupt block (see docs/protocols/blocks.md). */
const CORRUPT_PENALTY = 5

export class Swarm {
  readonly #init: SwarmInit
  readonly #c: SwarmComponents
  readonly #server: BlocksServer
  readonly #uploadRate: ByteRate
  readonly #downloadRate: ByteRate
  readonly #offences = new Map<string, number>()
  readonly #sessions = new Set<SwarmSession>()
  /** The ledger's side (set at its start): counts, weights under contention, refusals. */
  #contribution: Contribution | undefined

  constructor(init: SwarmInit, components: SwarmComponents) {
    this.#init = init
    this.#c = components
    this.#uploadRate = new ByteRate(init.uploadLimit)
    this.#downloadRate = new ByteRate(init.downloadLimit)
    const weight = (peer: string) => this.#contribution?.weight(peer) ?? 1
    this.#server = new BlocksServer(
      {
        net: components.net,
        blocks: components.blockstore,
        slots: new WeightedSlots(init.uploadSlots, weight),
        uploadRate: new WeightedRate(this.#uploadRate, weight),
        isBanned: (peer) => this.isBanned(peer),
        onServed: (peer, bytes) => this.#contribution?.gave(peer, bytes, 'blocks'),
        log: components.logger,
      },
      init,
    )
  }

  async start(): Promise<void> {
    await this.#c.net.handle(BLOCKS_PROTOCOL, (stream) => this.#server.serve(stream), this.#server.handleOptions())
  }

  async stop(): Promise<void> {
    await this.#c.net.unhandle(BLOCKS_PROTOCOL).catch(() => {})
    this.#server.closeAll()
    for (const session of this.#sessions) session.cancel(new AbortedError('the node is stopping'))
    await Promise.all([...this.#sessions].map((s) => s.closed))
  }

  /** Fetch a DAG (or, with `recursive: false`, its root block) from every peer that has it. */
  async fetch(root: CID, options: FetchOptions = {}): Promise<FetchResult> {
    // Registered before the first await, so a reader started right after finds it (fetchOf).
    return this.#open(root, { ...options, mode: 'dag' }).run()
  }

  /**
   * A session that fetches single blocks as a reader asks for them (`session.block(cid)`), all
   * through the same peers and one provider search for `root`. Close it when done.
   */
  session(root: CID, options: Omit<SessionOptions, 'mode' | 'recursive' | 'onProgress'> = {}): SwarmSession {
    return this.#open(root, { ...options, mode: 'blocks' })
  }

  /** The download of this DAG running now, if any (a reader can wait on its blocks). */
  fetchOf(root: CID): SwarmSession | undefined {
    for (const s of this.#sessions) if (s.mode === 'dag' && s.root.equals(root)) return s
    return undefined
  }

  #open(root: CID, options: SessionOptions): SwarmSession {
    const session = new SwarmSession(
      root,
      {
        net: this.#c.net,
        blockstore: this.#c.blockstore,
        downloadRate: this.#downloadRate,
        tuning: this.#init,
        isBanned: (peer) => this.isBanned(peer),
        reportCorrupt: (peer, cid) => this.#reportCorrupt(peer, cid),
        onReceived: (peer, bytes) => this.#contribution?.got(peer, bytes, 'blocks'),
        preference: (peer) => this.#contribution?.preference(peer) ?? 0,
        log: this.#c.logger,
      },
      options,
    )
    this.#sessions.add(session)
    void session.closed.then(() => this.#sessions.delete(session))
    return session
  }

  /** Ask one peer whether it has a block (one want-have on a short stream). False on any failure. */
  async askHave(peerId: string, cid: CID, signal: AbortSignal): Promise<boolean> {
    if (peerId === this.#c.net.peerId || this.isBanned(peerId)) return false
    let stream: ProtocolStream | undefined
    try {
      stream = await this.#c.net.openStream(peerId, BLOCKS_PROTOCOL, { signal })
      await stream.write(encodeFrame(encodeMessage({ t: 'want', wants: [{ cid, kind: WANT_HAVE }] })), { signal })
      for await (const frame of readFrames(stream, MAX_FRAME_BYTES)) {
        const reply = decodeMessage(frame)
        return reply.t === 'have' && reply.cids.some((c) => c.equals(cid))
      }
      return false
    } catch {
      return false
    } finally {
      await stream
        ?.close({ signal: AbortSignal.timeout(BLOCKS_CLOSE_GRACE_MS) })
        .catch(() => stream?.abort(new Error('done')))
    }
  }

  /** Refused: too many corrupt blocks, or the ledger holds proof that it cheated. */
  isBanned(peerId: string): boolean {
    return (this.#offences.get(peerId) ?? 0) >= this.#init.banAfter || this.#contribution?.refuses(peerId) === true
  }

  setContribution(contribution: Contribution | undefined): void {
    this.#contribution = contribution
  }

  /** Corrupt blocks received from each peer. */
  offences(): Map<string, number> {
    return new Map(this.#offences)
  }

  served(): Map<string, ServedTally> {
    return this.#server.served()
  }

  limits(): { uploadLimit: number; downloadLimit: number } {
    return { uploadLimit: this.#uploadRate.bytesPerSecond, downloadLimit: this.#downloadRate.bytesPerSecond }
  }

  setLimits(limits: { uploadLimit?: number; downloadLimit?: number }): void {
    if (limits.uploadLimit !== undefined) this.#uploadRate.setRate(limits.uploadLimit)
    if (limits.downloadLimit !== undefined) this.#downloadRate.setRate(limits.downloadLimit)
  }

  #reportCorrupt(peerId: string, cid: CID): void {
    const count = (this.#offences.get(peerId) ?? 0) + 1
    this.#offences.set(peerId, count)
    this.#c.net.penalize(peerId, CORRUPT_PENALTY, `sent a block that does not match ${cid}`)
    if (count === this.#init.banAfter)
      this.#c.logger.warn('peer refused from now on: repeated corrupt blocks', { peerId, offences: count })
  }
}
