/**
 * When to ask a peer to co-sign, and who will not. The peer that gave proposes once it gave
 * `receiptBytes` since the last proposal, or once bytes given have waited `receiptIntervalMs`
 * (never per block). A counterparty that counts less than this node sent (bytes in flight, a
 * lost count) answers with its own counts, and the receipt is proposed again with what both
 * can sign. A peer that leaves more than `slackBytes` of what it received unacknowledged
 * (refuses, under-counts, never answers) is a non-signer until a later receipt acknowledges it:
 * it is served after those that co-sign.
 *
 * A proposal is not repeated with counts already proposed (a peer that never answers gets one
 * unconfirmed entry per `receiptBytes` given, at most one per interval), and one exchange per
 * peer and kind runs at a time.
 */
import type { ServiceKind } from '../core/contribution.ts'
import type { Logger } from '../core/logger.ts'
import type { ChainStore } from './chain-store.ts'
import type { Counters } from './counters.ts'
import type { ProposalOutcome, ReceiptExchange } from './exchange.ts'

export interface SettlementComponents {
  counters: Counters
  chain: ChainStore
  exchange: Pick<ReceiptExchange, 'propose'>
  log: Logger
}

export interface SettlementInit {
  receiptBytes: number
  receiptIntervalMs: number
  slackBytes: number
}

interface Attempt {
  /** Bytes given when it was proposed. */
  out: number
  at: number
}

export class Settlement {
  readonly #c: SettlementComponents
  readonly #init: SettlementInit
  readonly #attempts = new Map<string, Attempt>()
  /** When bytes given started waiting for a receipt, per peer and kind. */
  readonly #waitingSince = new Map<string, number>()
  readonly #running = new Map<string, Promise<ProposalOutcome | undefined>>()
  /** Peers that leave what they received unacknowledged: how much. */
  readonly #nonSigners = new Map<string, number>()
  #stopped = false

  constructor(components: SettlementComponents, init: SettlementInit) {
    this.#c = components
    this.#init = init
  }

  stop(): Promise<unknown> {
    this.#stopped = true
    return Promise.allSettled([...this.#running.values()])
  }

  isNonSigner(peer: string): boolean {
    return this.#nonSigners.has(peer)
  }

  /** Bytes were given to `peer`: propose now if enough are waiting. */
  onGave(peer: string, kind: ServiceKind): void {
    const key = `${peer}/${kind}`
    if (!this.#waitingSince.has(key)) this.#waitingSince.set(key, Date.now())
    if (this.#due(peer, kind, false)) void this.settle(peer, kind)
  }

  /** Propose where bytes have waited long enough. */
  sweep(): void {
    for (const { peer, kind } of this.#c.counters.entries())
      if (this.#due(peer, kind, true)) void this.settle(peer, kind)
  }

  /** Propose a receipt for what was given to `peer` now (at most one exchange at a time per peer and kind). */
  settle(peer: string, kind: ServiceKind): Promise<ProposalOutcome | undefined> {
    const key = `${peer}/${kind}`
    const running = this.#running.get(key)
    if (running !== undefined) return running
    const run = this.#settle(peer, kind).finally(() => this.#running.delete(key))
    this.#running.set(key, run)
    return run
  }

  async #settle(peer: string, kind: ServiceKind): Promise<ProposalOutcome | undefined> {
    if (this.#stopped) return undefined
    const m = this.#c.counters.get(peer, kind)
    const held = kind === 'blocks' ? undefined : m.held
    const counts = { out: m.sent, in: m.received, ...(held === undefined ? {} : { held }) }
    const key = `${peer}/${kind}`
    this.#attempts.set(key, { out: m.sent, at: Date.now() })
    let outcome = await this.#c.exchange.propose(peer, kind, counts)
    if (outcome.status === 'refused' && outcome.code === 'counts' && !this.#stopped) {
      // It counts less (bytes in flight, or it under-counts): sign what both can.
      const acked = this.#acked(peer, kind)
      const out = Math.min(counts.out, outcome.theirs?.in ?? 0)
      const got = Math.min(counts.in, outcome.theirs?.out ?? 0)
      if (out >= acked && (out < counts.out || got < counts.in))
        outcome = await this.#c.exchange.propose(peer, kind, { ...counts, out, in: got })
    }
    this.#judge(peer, kind, m.sent, outcome)
    return outcome
  }

  /** Whether `peer` left more than the slack of what it received unacknowledged. */
  #judge(peer: string, kind: ServiceKind, sent: number, outcome: ProposalOutcome): void {
    const key = `${peer}/${kind}`
    // Not held against it: it is busy, or co-signed these counts already (this node missed the answer).
    const excused = ['busy', 'rate-limited', 'stale']
    if (outcome.status === 'refused' && excused.includes(outcome.code)) {
      this.#attempts.delete(key)
      return
    }
    if (outcome.status === 'agreed') this.#waitingSince.delete(key)
    const acked = outcome.status === 'agreed' ? outcome.entry.half.payload.out : this.#acked(peer, kind)
    const shortfall = sent - acked
    if (shortfall > this.#init.slackBytes) {
      if (!this.#nonSigners.has(peer))
        this.#c.log.info('peer does not co-sign what it received: served after those that do', {
          peer,
          shortfall,
          outcome: outcome.status,
        })
      this.#nonSigners.set(peer, shortfall)
    } else if (outcome.status === 'agreed') {
      this.#nonSigners.delete(peer)
    }
  }

  #acked(peer: string, kind: ServiceKind): number {
    return this.#c.chain.summary(peer)?.kinds[kind]?.out ?? 0
  }

  #due(peer: string, kind: ServiceKind, byTime: boolean): boolean {
    if (this.#stopped) return false
    const key = `${peer}/${kind}`
    if (this.#running.has(key)) return false
    const sent = this.#c.counters.get(peer, kind).sent
    const acked = this.#acked(peer, kind)
    if (sent <= acked) return false
    const last = this.#attempts.get(key)
    // Never propose the same counts twice: only more bytes given make a new proposal.
    if (last !== undefined && sent <= last.out) return false
    if (sent - Math.max(acked, last?.out ?? 0) >= this.#init.receiptBytes) return true
    if (!byTime) return false
    const since = last?.at ?? this.#waitingSince.get(key) ?? Date.now()
    return Date.now() - since >= this.#init.receiptIntervalMs
  }
}
