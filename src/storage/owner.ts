/**
 * The owner's side: place a DAG this node has with a keeper, take it back, and check that the
 * keeper still holds it.
 *
 * A put first counts the DAG's bytes and precomputes the challenge pool from the local blocks
 * (the owner must have the content; afterwards it may delete its own copy), then sends a signed
 * `/store/put` invocation and waits while the keeper fetches. A check uses the next pooled
 * challenge (removed before it is sent, so none is ever asked twice) or, when none is left, a
 * block challenge, and records the answer with its round-trip time.
 */
import { performance } from 'node:perf_hooks'
import type { DelegationAuthority } from '../core/delegations.ts'
import {
  AbortedError,
  InvalidInputError,
  NotFoundError,
  PeerUnreachableError,
  QuotaExceededError,
  StorageRefusedError,
} from '../core/errors.ts'
import type { Logger } from '../core/logger.ts'
import type { Net } from '../net/index.ts'
import { blockChallenge, type Challenge, judgeAnswer, precompute } from './challenge.ts'
import { type BlockSource, dagTotal, parseRoot } from './dag-walk.ts'
import { exchange } from './exchange.ts'
import type { CheckResult, Placement, PlacementStore } from './placements.ts'
import { COMMANDS, challengeArgs, type RefusalCode, type StorageAnswer } from './wire.ts'

export interface OwnerInit {
  poolSize: number
  rangeBytes: number
  putTimeoutMs: number
  requestTimeoutMs: number
  proofMaxBytes: number
  checkHistory: number
  placedMax: number
}

export interface OwnerComponents {
  net: Pick<Net, 'openStream'>
  delegation: Pick<DelegationAuthority, 'invoke'>
  blockstore: BlockSource
  store: PlacementStore
  log: Logger
  emit(type: 'storage:placed', detail: PlacementView): void
  emit(type: 'storage:withdrawn', detail: { cid: string; peer: string }): void
  emit(type: 'storage:checked', detail: CheckResult & { cid: string; peer: string }): void
}

/** A placement as the API shows it: without the pool's secrets. */
export interface PlacementView {
  cid: string
  peer: string
  size: number
  since: number
  lastProvenAt?: number
  lastCheck?: CheckResult
  /** Precomputed challenges left; past them, checks ask for whole blocks. */
  challengesLeft: number
}

export function viewOf(p: Placement): PlacementView {
  const last = p.checks.at(-1)
  return {
    cid: p.cid,
    peer: p.peer,
    size: p.size,
    since: p.since,
    ...(p.lastProvenAt === undefined ? {} : { lastProvenAt: p.lastProvenAt }),
    ...(last === undefined ? {} : { lastCheck: last }),
    challengesLeft: p.pool.length,
  }
}

export class Owner {
  readonly #init: OwnerInit
  readonly #c: OwnerComponents
  readonly #placed = new Map<string, Placement>()
  /** Aborted by `close`: exchanges in flight end at once when the node stops. */
  readonly #closing = new AbortController()

  constructor(init: OwnerInit, components: OwnerComponents) {
    this.#init = init
    this.#c = components
  }

  async load(): Promise<void> {
    for (const p of await this.#c.store.load()) this.#placed.set(keyOf(p.peer, p.cid), p)
  }

  /** End every exchange in flight (the node is stopping). */
  close(): void {
    this.#closing.abort(new Error('the node is stopping'))
  }

  list(): Placement[] {
    return [...this.#placed.values()]
  }

  get(peer: string, cid: string): Placement | undefined {
    return this.#placed.get(keyOf(peer, cid))
  }

  /** Ask `peer` to keep the DAG under `cid` for this node's identity; resolves once it is kept. */
  async put(cid: string, peer: string): Promise<Placement> {
    const root = parseRoot(cid)
    const key = keyOf(peer, cid)
    if (!this.#placed.has(key) && this.#placed.size >= this.#init.placedMax) {
      throw new InvalidInputError(`this node has placed ${this.#init.placedMax} copies already (storage.placedMax)`)
    }
    let size: number
    try {
      size = (await dagTotal(this.#c.blockstore, root)).bytes
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new NotFoundError(
          `${cid} is not all stored here (${err.message}): only content this node has can be placed`,
        )
      }
      throw err
    }
    const pool = await precompute(this.#c.blockstore, root, this.#init.poolSize, this.#init.rangeBytes)
    const inv = await this.#c.delegation.invoke(peer, COMMANDS.put, { cid, size })
    const answer = await this.#exchange(peer, 'put', inv, this.#init.putTimeoutMs)
    if (answer.t !== 'kept') throw unexpected(peer, answer)
    const before = this.#placed.get(key)
    const placement: Placement = {
      cid,
      peer,
      size: answer.size,
      since: before?.since ?? Date.now(),
      pool,
      checks: before?.checks ?? [],
      ...(before?.lastProvenAt === undefined ? {} : { lastProvenAt: before.lastProvenAt }),
    }
    this.#placed.set(key, placement)
    await this.#c.store.save(placement)
    this.#c.log.info('copy placed', { cid, peer, size: answer.size })
    this.#c.emit('storage:placed', viewOf(placement))
    return placement
  }

  /** Ask the keeper to drop its copy, and forget it here (also when the keeper no longer had it). */
  async drop(cid: string, peer: string): Promise<void> {
    const placement = this.#require(peer, cid)
    const inv = await this.#c.delegation.invoke(peer, COMMANDS.drop, { cid })
    const answer = await this.#exchange(peer, 'drop', inv, this.#init.requestTimeoutMs)
    if (answer.t !== 'dropped' && !(answer.t === 'refused' && answer.code === 'not-kept'))
      throw unexpected(peer, answer)
    this.#placed.delete(keyOf(peer, cid))
    await this.#c.store.delete(peer, cid)
    this.#c.emit('storage:withdrawn', { cid: placement.cid, peer })
  }

  /** One storage challenge now; the result is recorded (and returned) whatever it is. */
  async check(cid: string, peer: string): Promise<CheckResult> {
    const placement = this.#require(peer, cid)
    const pooled = placement.pool[0]
    let challenge: Challenge
    let expected: Uint8Array | undefined
    if (pooled !== undefined) {
      challenge = { nonce: pooled.nonce, steps: pooled.steps, range: pooled.range }
      expected = pooled.expected
      // Taken before anything is awaited, and saved before it is sent: never asked twice.
      this.#placed.set(keyOf(peer, cid), { ...placement, pool: placement.pool.slice(1) })
      await this.#c.store.save(this.#require(peer, cid))
    } else {
      challenge = blockChallenge()
    }
    const kind = challenge.range === undefined ? 'block' : 'range'
    const inv = await this.#c.delegation.invoke(peer, COMMANDS.check, challengeArgs(cid, challenge))
    const at = Date.now()
    const started = performance.now()
    let result: CheckResult
    try {
      const answer = await this.#exchange(peer, 'check', inv, this.#init.requestTimeoutMs)
      const rttMs = Math.round((performance.now() - started) * 10) / 10
      result = await this.#judge(cid, challenge, expected, answer, { at, kind, rttMs })
    } catch (err) {
      // Stopping is not an answer: nothing is recorded.
      if (err instanceof AbortedError) throw err
      const status = err instanceof PeerUnreachableError ? 'unreachable' : 'failed'
      result = { at, status, kind, reason: (err as Error).message }
    }
    await this.#record(peer, cid, result)
    return result
  }

  async #judge(
    cid: string,
    challenge: Challenge,
    expected: Uint8Array | undefined,
    answer: StorageAnswer,
    base: { at: number; kind: CheckResult['kind']; rttMs: number },
  ): Promise<CheckResult> {
    if (answer.t === 'refused') {
      // A keeper too busy to answer did not fail a proof; one that lacks the blocks did.
      const status = answer.code === 'rate-limited' || answer.code === 'busy' ? 'unreachable' : 'failed'
      return { ...base, status, reason: `${answer.code}: ${answer.error}` }
    }
    if (answer.t !== 'proof' && answer.t !== 'blocks')
      return { ...base, status: 'failed', reason: `unexpected answer "${answer.t}"` }
    const why = await judgeAnswer(parseRoot(cid), challenge, expected, answer)
    return why === undefined ? { ...base, status: 'proven' } : { ...base, status: 'failed', reason: why }
  }

  async #record(peer: string, cid: string, result: CheckResult): Promise<void> {
    const current = this.#placed.get(keyOf(peer, cid))
    if (current !== undefined) {
      const updated: Placement = {
        ...current,
        checks: [...current.checks, result].slice(-this.#init.checkHistory),
        ...(result.status === 'proven' ? { lastProvenAt: result.at } : {}),
      }
      this.#placed.set(keyOf(peer, cid), updated)
      await this.#c.store.save(updated)
    }
    const level = result.status === 'failed' ? 'warn' : 'info'
    this.#c.log[level]('storage check', { cid, peer, ...result })
    this.#c.emit('storage:checked', { cid, peer, ...result })
  }

  #require(peer: string, cid: string): Placement {
    const placement = this.#placed.get(keyOf(peer, cid))
    if (placement === undefined) throw new NotFoundError(`${cid} is not placed with ${peer} (lateral store list)`)
    return placement
  }

  #exchange(peer: string, op: 'put' | 'drop' | 'check', inv: Uint8Array, timeoutMs: number): Promise<StorageAnswer> {
    return exchange(this.#c.net, peer, op, inv, {
      timeoutMs,
      proofMaxBytes: this.#init.proofMaxBytes,
      signal: this.#closing.signal,
    })
  }
}

function keyOf(peer: string, cid: string): string {
  return `${peer}/${cid}`
}

/** The error for an answer that is not the one asked for: a refusal, or a wrong kind. */
function unexpected(peer: string, answer: StorageAnswer): Error {
  if (answer.t !== 'refused') return new InvalidInputError(`keeper ${peer} sent an unexpected answer "${answer.t}"`)
  return refusalError(peer, answer.code, answer.error)
}

export function refusalError(peer: string, code: RefusalCode, error: string): Error {
  const message = `keeper ${peer} refused: ${error}`
  return code === 'over-quota' ? new QuotaExceededError(message) : new StorageRefusedError(message, code)
}
