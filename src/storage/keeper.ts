/**
 * The keeper's side of `/lateral/storage/1.0.0`: a peer asks this node to keep, drop or prove a
 * DAG for an identity. Each request is, in order: rate-limited per peer (before any signature is
 * checked), its invocation verified (signature, time, replay, issuer a current device of the
 * subject, and the issuer must be the peer that sent it), then:
 *
 * - put: refused unless this node holds a valid `/store/put` grant from the subject and the copy
 *   fits the grant's quota and the node's own caps, counting copies kept and being fetched; then
 *   the DAG is fetched with the swarm engine (the asker is connected, so it is asked first) and
 *   abandoned if more bytes arrive than the size claimed; then recorded and pinned.
 * - drop: the copy goes (its pin too when no one else holds the root).
 * - check: the challenged block is read now and hashed (range) or sent with its path (block).
 */
import { CID } from 'multiformats/cid'
import type { DelegationAuthority, VerifiedInvocation } from '../core/delegations.ts'
import { InvalidInputError, NotFoundError } from '../core/errors.ts'
import { encodeFrame, readFrames } from '../core/framing.ts'
import type { Logger } from '../core/logger.ts'
import { TokenBuckets } from '../core/token-buckets.ts'
import type { Net, ProtocolStream } from '../net/index.ts'
import { answerBlocks, answerRange } from './challenge.ts'
import type { StorageContent } from './content-port.ts'
import type { BlockSource } from './dag-walk.ts'
import type { KeptCopies } from './kept-copies.ts'
import type { Serial } from './serial.ts'
import {
  COMMANDS,
  checkArgs,
  decodeRequest,
  dropArgs,
  encodeMessage,
  putArgs,
  REQUEST_MAX_BYTES,
  type RefusalCode,
  refusal,
  STORAGE_PROTOCOL,
  type StorageAnswer,
  type StorageOp,
} from './wire.ts'

export interface KeeperInit {
  keptMaxBytes: number
  subjectMaxBytes: number
  subjectMaxCopies: number
  putsPerPeer: number
  fetches: number
  requestsPerMinute: number
  ratePeers: number
  inboundStreams: number
  fetchTimeoutMs: number
  /** Reading a request, and writing an answer, give up after this. */
  requestTimeoutMs: number
  proofMaxBytes: number
  rangeMaxBytes: number
}

export interface KeeperComponents {
  net: Pick<Net, 'handle' | 'unhandle' | 'penalize'>
  delegation: Pick<DelegationAuthority, 'held' | 'verifyInvocation'>
  content: StorageContent
  blockstore: BlockSource
  copies: KeptCopies
  /** Changes to copies go through this, with the sweep's. */
  serial: Serial
  log: Logger
  /** Blocks that may be left over (a fetch abandoned, a copy dropped): collect soon. */
  collect(): void
  emit(type: 'storage:refused', detail: StorageRefusal): void
}

/** A refused put, drop or check, as the `storage:refused` event tells it. */
export interface StorageRefusal {
  /** Absent when the request could not be read. */
  op?: StorageOp
  /** The peer that asked. */
  from: string
  code: RefusalCode
  error: string
}

export class Keeper {
  readonly #init: KeeperInit
  readonly #c: KeeperComponents
  readonly #rate: TokenBuckets
  /** Bytes reserved per subject by fetches in progress. */
  readonly #reserved = new Map<string, number>()
  /** (subject, root) pairs being fetched, so two puts of one copy do not both fetch. */
  readonly #fetching = new Set<string>()
  readonly #putsOf = new Map<string, number>()
  readonly #aborts = new Set<AbortController>()

  constructor(init: KeeperInit, components: KeeperComponents) {
    this.#init = init
    this.#c = components
    this.#rate = TokenBuckets.perMinute(init.requestsPerMinute, init.ratePeers)
  }

  async start(): Promise<void> {
    await this.#c.net.handle(STORAGE_PROTOCOL, (stream) => this.#serve(stream), {
      maxInboundStreams: this.#init.inboundStreams,
      writeTimeoutMs: this.#init.requestTimeoutMs,
    })
  }

  async stop(): Promise<void> {
    for (const ac of this.#aborts) ac.abort(new Error('the node is stopping'))
    await this.#c.net.unhandle(STORAGE_PROTOCOL).catch(() => {})
  }

  /** Bytes being fetched for `subject` now (counted against its quota with what is kept). */
  reserved(subject: string): number {
    return this.#reserved.get(subject) ?? 0
  }

  async #serve(stream: ProtocolStream): Promise<void> {
    const peer = stream.remotePeer
    const timer = setTimeout(() => stream.abort(new Error('storage: no request in time')), this.#init.requestTimeoutMs)
    timer.unref?.()
    let answer: StorageAnswer
    let op: StorageOp | undefined
    try {
      const first = await readFrames(stream, REQUEST_MAX_BYTES)[Symbol.asyncIterator]().next()
      clearTimeout(timer)
      if (first.done === true) return
      const request = decodeRequest(first.value.subarray())
      op = request.op
      answer = await this.#answer(peer, request.op, request.inv)
    } catch (err) {
      clearTimeout(timer)
      if (err instanceof InvalidInputError) {
        this.#c.net.penalize(peer, 1, `bad storage request: ${err.message}`)
        answer = refusal('invalid', err.message)
      } else {
        this.#c.log.debug('storage stream ended', { peer, error: (err as Error).message })
        stream.abort(err instanceof Error ? err : new Error(String(err)))
        return
      }
    }
    // Rate-limited refusals are not events: a flooding peer would flood every event listener too.
    if (answer.t === 'refused' && answer.code !== 'rate-limited') {
      this.#c.emit('storage:refused', {
        ...(op === undefined ? {} : { op }),
        from: peer,
        code: answer.code,
        error: answer.error,
      })
    }
    try {
      await stream.write(encodeFrame(encodeMessage(answer)), {
        signal: AbortSignal.timeout(this.#init.requestTimeoutMs),
      })
      await stream.close({ signal: AbortSignal.timeout(this.#init.requestTimeoutMs) })
    } catch (err) {
      this.#c.log.debug('storage answer not delivered', { peer, error: (err as Error).message })
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  async #answer(peer: string, op: StorageOp, bytes: Uint8Array): Promise<StorageAnswer> {
    if (!this.#rate.take(peer))
      return refusal('rate-limited', `more than ${this.#init.requestsPerMinute} storage requests a minute`)
    let inv: VerifiedInvocation
    try {
      inv = await this.#c.delegation.verifyInvocation(bytes, COMMANDS[op])
    } catch (err) {
      return refusal('invalid', `invocation refused: ${(err as Error).message}`)
    }
    if (inv.issuer !== peer)
      return refusal('invalid', `the invocation was signed by ${inv.issuer}, not by the peer that sent it`)
    try {
      if (op === 'put') return await this.#put(peer, inv)
      if (op === 'drop') return await this.#drop(inv)
      return await this.#check(inv)
    } catch (err) {
      if (err instanceof InvalidInputError) return refusal('invalid', err.message)
      this.#c.log.warn('storage request failed', { peer, op, error: (err as Error).message })
      return refusal('internal', (err as Error).message)
    }
  }

  async #put(peer: string, inv: VerifiedInvocation): Promise<StorageAnswer> {
    const { cid, size } = putArgs(inv.args)
    const subject = inv.subject
    const key = `${subject}/${cid}`
    // Checked and reserved in one step, so two puts cannot both pass the same quota.
    const refused = await this.#c.serial.run(async (): Promise<StorageAnswer | undefined> => {
      const kept = this.#c.copies.get(subject, cid)
      if (kept !== undefined) return { t: 'kept', size: kept.size } as StorageAnswer
      if (this.#fetching.has(key)) return refusal('busy', `${cid} is already being fetched for ${subject}`)
      if ((this.#putsOf.get(peer) ?? 0) >= this.#init.putsPerPeer) {
        return refusal('busy', `at most ${this.#init.putsPerPeer} puts at once from one peer`)
      }
      if (this.#fetching.size >= this.#init.fetches) {
        return refusal('busy', `this node already fetches ${this.#init.fetches} DAGs for others; try later`)
      }
      const grant = await this.#c.delegation.held(subject, COMMANDS.put)
      if (grant === undefined) {
        return refusal('no-grant', `this node holds no valid ${COMMANDS.put} grant from identity ${subject}`)
      }
      const over = this.#overQuota(subject, size, grant.quota)
      if (over !== undefined) return refusal('over-quota', over)
      this.#fetching.add(key)
      this.#putsOf.set(peer, (this.#putsOf.get(peer) ?? 0) + 1)
      this.#reserved.set(subject, this.reserved(subject) + size)
      return undefined
    })
    if (refused !== undefined) return refused
    try {
      const fetched = await this.#fetch(cid, size)
      if (typeof fetched === 'object') return fetched
      return await this.#c.serial.run(async () => {
        // The grant may have been revoked, or have expired, while the DAG came.
        const grant = await this.#c.delegation.held(subject, COMMANDS.put)
        if (grant === undefined) {
          this.#c.collect()
          return refusal(
            'no-grant',
            `the ${COMMANDS.put} grant from identity ${subject} ended while ${cid} was fetched`,
          )
        }
        await this.#c.copies.add({
          subject,
          cid,
          size: fetched,
          since: Date.now(),
          from: peer,
          grant: grant.cid,
          grantExpiresAt: grant.expiresAt,
        })
        return { t: 'kept', size: fetched } as StorageAnswer
      })
    } finally {
      this.#fetching.delete(key)
      const n = (this.#putsOf.get(peer) ?? 1) - 1
      if (n > 0) this.#putsOf.set(peer, n)
      else this.#putsOf.delete(peer)
      const left = this.reserved(subject) - size
      if (left > 0) this.#reserved.set(subject, left)
      else this.#reserved.delete(subject)
    }
  }

  /** Why `size` more bytes for `subject` would pass a bound, or undefined when they fit. */
  #overQuota(subject: string, size: number, quota: number | undefined): string | undefined {
    const used = this.#c.copies.usage(subject)
    const taken = used.bytes + this.reserved(subject)
    if (quota !== undefined && taken + size > quota) {
      return `over quota: the grant from identity ${subject} allows ${quota} bytes; ${taken} are kept or being fetched, ${size} more asked`
    }
    if (taken + size > this.#init.subjectMaxBytes) {
      return `over quota: this node keeps at most ${this.#init.subjectMaxBytes} bytes for one identity; ${taken} are kept or being fetched for ${subject}, ${size} more asked`
    }
    let reservedAll = 0
    for (const n of this.#reserved.values()) reservedAll += n
    const all = this.#c.copies.totalBytes() + reservedAll
    if (all + size > this.#init.keptMaxBytes) {
      return `over quota: this node keeps at most ${this.#init.keptMaxBytes} bytes for others in all; ${all} are kept or being fetched, ${size} more asked`
    }
    if (used.copies >= this.#init.subjectMaxCopies) {
      return `over quota: this node keeps at most ${this.#init.subjectMaxCopies} copies for one identity`
    }
    return undefined
  }

  /** Fetch the DAG; the bytes it holds, or the refusal when it is larger than claimed or cannot be had. */
  async #fetch(cid: string, size: number): Promise<number | StorageAnswer> {
    const ac = new AbortController()
    this.#aborts.add(ac)
    let seen = 0
    const tooLarge = () => seen > size
    try {
      const result = await this.#c.content.fetch(CID.parse(cid), {
        signal: AbortSignal.any([ac.signal, AbortSignal.timeout(this.#init.fetchTimeoutMs)]),
        onProgress: (p) => {
          seen = p.fetchedBytes + p.storedBytes
          if (tooLarge()) ac.abort(new Error('larger than claimed'))
        },
      })
      seen = result.fetchedBytes + result.storedBytes
      if (tooLarge()) throw new Error('larger than claimed')
      return seen
    } catch (err) {
      this.#c.collect()
      if (tooLarge()) {
        return refusal(
          'size-mismatch',
          `${cid} is larger than the ${size} bytes claimed (${seen} bytes seen): abandoned`,
        )
      }
      const why = err instanceof NotFoundError || (err as Error).name === 'NoProvidersError' ? 'not found' : 'failed'
      return refusal('fetch-failed', `fetching ${cid} ${why}: ${(err as Error).message}`)
    } finally {
      this.#aborts.delete(ac)
    }
  }

  async #drop(inv: VerifiedInvocation): Promise<StorageAnswer> {
    const { cid } = dropArgs(inv.args)
    return this.#c.serial.run(async () => {
      const copy = this.#c.copies.get(inv.subject, cid)
      if (copy === undefined) return refusal('not-kept', `${cid} is not kept here for identity ${inv.subject}`)
      await this.#c.copies.remove(copy, 'requested')
      this.#c.collect()
      return { t: 'dropped' } as StorageAnswer
    })
  }

  async #check(inv: VerifiedInvocation): Promise<StorageAnswer> {
    const { cid, challenge } = checkArgs(inv.args)
    if (this.#c.copies.get(inv.subject, cid) === undefined) {
      return refusal('not-kept', `${cid} is not kept here for identity ${inv.subject}`)
    }
    const root = CID.parse(cid)
    try {
      const range = challenge.range
      if (range !== undefined) {
        if (range[1] > this.#init.rangeMaxBytes) {
          return refusal('too-large', `a range of ${range[1]} bytes; at most ${this.#init.rangeMaxBytes} are hashed`)
        }
        return { t: 'proof', digest: await answerRange(this.#c.blockstore, root, { ...challenge, range }) }
      }
      const proof = await answerBlocks(this.#c.blockstore, root, challenge.steps, this.#init.proofMaxBytes)
      if ('tooLarge' in proof) {
        return refusal(
          'too-large',
          `the proof would be ${proof.tooLarge} bytes; at most ${this.#init.proofMaxBytes} are sent`,
        )
      }
      return { t: 'blocks', blocks: proof.blocks }
    } catch (err) {
      if (err instanceof NotFoundError) return refusal('missing', err.message)
      throw err
    }
  }
}
