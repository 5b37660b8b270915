/**
 * Co-signing a receipt (docs/protocols/ledger.md, "Exchange"). The peer that gave proposes:
 *
 * 1. it signs its half for its next chain position with its own counts, stores it (a position is
 *    never given twice, even if the proposal goes unanswered), and sends it;
 * 2. the counterparty checks the half (signature, that it names both parties as they are, that it
 *    conflicts with no half it has seen), then the counts against its own: it never signs that it
 *    received more than it did (it waits up to `countWaitMs` for bytes still in flight), and
 *    refuses with its own counts otherwise; then it signs the mirrored half for its next position,
 *    stores both, and answers with it;
 * 3. the proposer checks that the agreement mirrors its proposal and stores it with its half.
 *
 * A proposal the counterparty never agrees to stays in the proposer's chain, unconfirmed: it
 * counts for nothing.
 */
import type { ServiceKind } from '../core/contribution.ts'
import type { InvalidInputError } from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import type { Signer } from '../core/signer.ts'
import type { TokenBuckets } from '../core/token-buckets.ts'
import type { Net } from '../net/index.ts'
import { ask } from './ask.ts'
import type { ChainEntry, ChainStore } from './chain-store.ts'
import type { Counters } from './counters.ts'
import type { ForkProof, ForkWatch } from './fork-watch.ts'
import { checkAgreement, type Receipt, type ReceiptHalf, type SignedHalf, signHalf, verifyHalf } from './receipt.ts'
import type { LedgerAnswer, RefusalCode } from './wire.ts'

export interface ExchangeComponents {
  net: Pick<Net, 'openStream'>
  /** Agreements this node signs per peer: one token each (a peer's proposals cannot grow the chain fast). */
  agreements: Pick<TokenBuckets, 'take'>
  signer: Signer
  chain: ChainStore
  counters: Counters
  forks: ForkWatch
  /** This node's identity ('' for none) and what it knows of others'. */
  identity: { self(): string; identityOf(peerId: string): string | undefined }
  refuses(peerId: string): boolean
  /** A receipt was completed on this node's chain. */
  onReceipt(entry: ChainEntry, receipt: Receipt): Promise<void>
  /** Two halves by one device at one position were seen while checking a half. */
  onFork(proof: ForkProof): Promise<void>
  log: Logger
}

export interface ExchangeInit {
  /** Dial, proposal and answer, ms. */
  timeoutMs: number
  /** How long an answerer waits for its own counts to reach a proposal's, ms. */
  countWaitMs: number
}

export type ProposalOutcome =
  | { status: 'agreed'; entry: ChainEntry }
  | { status: 'refused'; entry: ChainEntry; code: RefusalCode; error: string; theirs?: { out?: number; in?: number } }
  | { status: 'contradicted'; entry: ChainEntry; error: string }
  | { status: 'unanswered'; entry: ChainEntry; error: string }

export class ReceiptExchange {
  readonly #c: ExchangeComponents
  readonly #init: ExchangeInit
  /** Peers whose proposal this node is answering now: one at a time each. */
  readonly #answering = new Set<string>()

  constructor(components: ExchangeComponents, init: ExchangeInit) {
    this.#c = components
    this.#init = init
  }

  /** Propose a receipt to `peer` with these cumulative counts (this node's side). */
  async propose(
    peer: string,
    kind: ServiceKind,
    counts: { out: number; in: number; held?: number },
  ): Promise<ProposalOutcome> {
    const me = this.#c.signer.peerId
    const self = this.#c.identity.self()
    const pid = this.#c.identity.identityOf(peer)
    const entry = await this.#c.chain.append((seq, prev) =>
      signHalf(this.#c.signer, {
        dev: me,
        ...(self === '' ? {} : { id: self }),
        seq,
        prev,
        peer,
        ...(pid === undefined ? {} : { pid }),
        kind,
        out: counts.out,
        in: counts.in,
        ...(counts.held === undefined ? {} : { held: counts.held }),
        t: Date.now(),
      }),
    )
    this.#c.forks.observe(entry.half)
    let answer: LedgerAnswer
    try {
      answer = await ask(
        this.#c.net,
        peer,
        { t: 'propose', half: entry.half.bytes },
        AbortSignal.timeout(this.#init.timeoutMs),
      )
    } catch (err) {
      return { status: 'unanswered', entry, error: (err as Error).message }
    }
    if (answer.t === 'refused') {
      return {
        status: 'refused',
        entry,
        code: answer.code,
        error: answer.error,
        theirs: {
          ...(answer.out === undefined ? {} : { out: answer.out }),
          ...(answer.in === undefined ? {} : { in: answer.in }),
        },
      }
    }
    if (answer.t !== 'agree') return { status: 'contradicted', entry, error: `answered "${answer.t}" to a proposal` }
    let agreement: SignedHalf
    try {
      agreement = verifyHalf(answer.half)
      checkAgreement(entry.half, agreement)
    } catch (err) {
      // Its half contradicts ours (or is forged): the receipt is refused, the proposal stays unconfirmed.
      return { status: 'contradicted', entry, error: (err as Error).message }
    }
    const proof = this.#c.forks.observe(agreement)
    if (proof !== undefined) await this.#c.onFork(proof)
    const done = (await this.#c.chain.complete(entry.seq, agreement)) ?? { ...entry, other: agreement }
    this.#c.counters.raiseTo(peer, kind, counts.out, counts.in)
    await this.#c.onReceipt(done, { proposal: entry.half, agreement })
    return { status: 'agreed', entry: done }
  }

  /** Answer a proposal from `from` (the stream's remote peer): agree, or refuse saying why. */
  async answer(from: string, bytes: Uint8Array): Promise<LedgerAnswer> {
    let proposal: SignedHalf
    try {
      proposal = verifyHalf(bytes)
    } catch (err) {
      return refusal('invalid', (err as InvalidInputError).message)
    }
    const p = proposal.payload
    const wrong = this.#wrongParties(from, p)
    if (wrong !== undefined) return refusal('parties', wrong)
    if (p.kind === 'blocks' && p.held !== undefined) return refusal('invalid', 'block receipts hold nothing')
    if (this.#c.refuses(from)) return refusal('refused', 'this node holds proof that your chain forked')
    const proof = this.#c.forks.observe(proposal)
    if (proof !== undefined) {
      await this.#c.onFork(proof)
      return refusal('fork', `another half of yours is known at position ${p.seq}`)
    }
    if (this.#answering.has(from)) return refusal('busy', 'a proposal of yours is being answered')
    const last = this.#c.chain.summary(from)?.kinds[p.kind]
    if (last !== undefined && p.out <= last.in && p.in <= last.out && (p.held ?? 0) === last.held)
      return refusal('stale', 'nothing new since the last receipt')
    if (!this.#c.agreements.take(from)) return refusal('rate-limited', 'too many receipts at once')
    this.#answering.add(from)
    try {
      const fits = () => {
        const m = this.#c.counters.get(from, p.kind)
        return p.out <= m.received && p.in <= m.sent
      }
      if (!(await this.#c.counters.waitUntil(from, fits, this.#init.countWaitMs))) {
        const m = this.#c.counters.get(from, p.kind)
        return {
          ...refusal('counts', `this node counts ${m.received} bytes received from you and ${m.sent} sent to you`),
          out: m.sent,
          in: m.received,
        }
      }
      const self = this.#c.identity.self()
      const entry = await this.#c.chain.append(
        (seq, prev) =>
          signHalf(this.#c.signer, {
            dev: this.#c.signer.peerId,
            ...(self === '' ? {} : { id: self }),
            seq,
            prev,
            peer: from,
            ...(p.id === undefined ? {} : { pid: p.id }),
            kind: p.kind,
            out: p.in,
            in: p.out,
            ...(p.held === undefined ? {} : { held: p.held }),
            t: Date.now(),
            link: proposal.cid,
          }),
        proposal,
      )
      this.#c.forks.observe(entry.half)
      this.#c.counters.raiseTo(from, p.kind, p.in, p.out)
      await this.#c.onReceipt(entry, { proposal, agreement: entry.half })
      return { t: 'agree', half: entry.half.bytes }
    } finally {
      this.#answering.delete(from)
    }
  }

  /** Why a proposal's parties are wrong, if they are. */
  #wrongParties(from: string, p: ReceiptHalf): string | undefined {
    if (p.link !== undefined) return 'an agreement is not a proposal'
    if (p.dev !== from) return 'the half is signed by another device than the one proposing it'
    if (p.peer !== this.#c.signer.peerId) return 'the half names another counterparty'
    const self = this.#c.identity.self()
    if (p.pid !== undefined && p.pid !== self) return 'the half names another identity for this node'
    const known = this.#c.identity.identityOf(from)
    if (p.id !== undefined && known !== undefined && p.id !== known)
      return 'the half names an identity that is not yours'
    return undefined
  }
}

function refusal(code: RefusalCode, error: string): Extract<LedgerAnswer, { t: 'refused' }> {
  return { t: 'refused', code, error }
}
