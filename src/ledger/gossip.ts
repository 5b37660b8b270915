/**
 * The ledger's two gossip topics. `/lateral/ledger/receipts/1`: each party of a completed
 * receipt publishes it (`{ p, a }`), so any peer that sees two halves by one device at one
 * position catches the fork, and peers learn the receipts around them. `/lateral/ledger/forks/1`:
 * fork proofs, forwarded only when they verify. Validators check every signature before a
 * message is delivered or forwarded; a device's receipts beyond `announcesPerMinute` are ignored;
 * invalid messages cost their forwarder points.
 */
import type { Logger } from '../core/logger.ts'
import type { TokenBuckets } from '../core/token-buckets.ts'
import type { Net, PubSubMessage, ValidationResult } from '../net/index.ts'
import { type ForkProof, verifyForkProof } from './fork-watch.ts'
import { type Receipt, readStoredHalf, verifyReceipt } from './receipt.ts'
import { decodeAnnouncement, decodeForkProof, encodeMessage, FORKS_TOPIC, RECEIPTS_TOPIC } from './wire.ts'

export interface GossipComponents {
  net: Pick<Net, 'pubsub' | 'penalize' | 'addEventListener' | 'removeEventListener' | 'peerId'>
  /** Receipts per minute taken from one device. */
  rate: TokenBuckets
  onReceipt(receipt: Receipt): void
  onProof(proof: ForkProof, from: string): void
  /** The CID of the half this node knows by `device` at `seq`, if any. */
  seen(device: string, seq: number): string | undefined
  /** Whether this node already holds a fork proof against `device` at `seq`. */
  hasProof(device: string, seq: number): boolean
  log: Logger
}

export class LedgerGossip {
  readonly #c: GossipComponents
  /** What the validator checked, by the message's bytes: delivery does not verify the signatures again. */
  readonly #checked = new WeakMap<Uint8Array, Receipt | ForkProof>()

  constructor(components: GossipComponents) {
    this.#c = components
  }

  start(): void {
    const pubsub = this.#c.net.pubsub
    pubsub.setValidator(RECEIPTS_TOPIC, (m) => this.#validate(m, () => this.#receipt(m.data, m.from)))
    pubsub.setValidator(FORKS_TOPIC, (m) => this.#validate(m, () => verifyForkProof(m.data)))

    pubsub.subscribe(RECEIPTS_TOPIC)
    pubsub.subscribe(FORKS_TOPIC)
    this.#c.net.addEventListener('pubsub:message', this.#onMessage)
  }

  stop(): void {
    this.#c.net.removeEventListener('pubsub:message', this.#onMessage)
    try {
      for (const topic of [RECEIPTS_TOPIC, FORKS_TOPIC]) {
        this.#c.net.pubsub.unsubscribe(topic)
        this.#c.net.pubsub.removeValidator(topic)
      }
    } catch {
      // the network is already stopped
    }
  }

  async announce(receipt: Receipt): Promise<void> {
    await this.#publish(RECEIPTS_TOPIC, encodeMessage({ p: receipt.proposal.bytes, a: receipt.agreement.bytes }))
  }

  async spread(proof: ForkProof): Promise<number> {
    return this.#publish(FORKS_TOPIC, proof.bytes)
  }

  async #publish(topic: string, data: Uint8Array): Promise<number> {
    try {
      return (await this.#c.net.pubsub.publish(topic, data)).recipients
    } catch (err) {
      // No peer on the topic yet is not an error: chains are fetched and proofs spread again.
      this.#c.log.debug('ledger gossip not published', { topic, error: (err as Error).message })
      return 0
    }
  }

  /** A receipt announced by one of its parties. */
  #receipt(data: Uint8Array, from: string): Receipt {
    const m = decodeAnnouncement(data)
    const receipt = verifyReceipt(m.p, m.a)
    const p = receipt.proposal.payload
    if (from !== p.dev && from !== p.peer) throw new Error('a receipt is announced by one of its parties')
    return receipt
  }

  #validate(m: PubSubMessage, check: () => Receipt | ForkProof): ValidationResult {
    if (m.topic === RECEIPTS_TOPIC && !this.#c.rate.take(m.from)) return 'ignore'
    try {
      // Known already: neither verified again nor forwarded (whoever sent it has it too).
      if (this.#known(m)) return 'ignore'
    } catch {
      // Malformed: the full check below says so.
    }
    try {
      this.#checked.set(m.data, check() as Receipt | ForkProof)
      return 'accept'
    } catch (err) {
      this.#c.net.penalize(m.propagationSource, 1, `invalid ledger gossip: ${(err as Error).message}`)
      return 'reject'
    }
  }

  /** A receipt whose two halves this node knows, or a proof it holds: cheap, no signature checked. */
  #known(m: PubSubMessage): boolean {
    if (m.topic === RECEIPTS_TOPIC) {
      const a = decodeAnnouncement(m.data)
      return [a.p, a.a].every((bytes) => {
        const h = readStoredHalf(bytes)
        return this.#c.seen(h.payload.dev, h.payload.seq) === h.cid.toString()
      })
    }
    const proof = decodeForkProof(m.data)
    const h = readStoredHalf(proof.a)
    return this.#c.hasProof(h.payload.dev, h.payload.seq)
  }

  readonly #onMessage = (evt: CustomEvent<PubSubMessage>): void => {
    const m = evt.detail
    if (m.from === this.#c.net.peerId) return
    try {
      const checked = this.#checked.get(m.data)
      if (m.topic === RECEIPTS_TOPIC)
        this.#c.onReceipt((checked as Receipt | undefined) ?? this.#receipt(m.data, m.from))
      else if (m.topic === FORKS_TOPIC)
        this.#c.onProof((checked as ForkProof | undefined) ?? verifyForkProof(m.data), m.from)
    } catch (err) {
      this.#c.log.debug('dropped ledger gossip', { topic: m.topic, from: m.from, error: (err as Error).message })
    }
  }
}
