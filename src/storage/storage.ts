/**
 * The storage service: content kept for this node's person by peers it delegated (`/store/put`),
 * checked at random times, and content this node keeps for others within their grants.
 *
 * @example
 * ```ts
 * // On the owner (the content is here; the keeper holds a /store/put grant from this identity):
 * const [placed] = await node.storage.put(cid, keeperPeerId)        // { peer, status: 'kept', size }
 * const [check] = await node.storage.check(cid, keeperPeerId)       // { status: 'proven', rttMs: 3.1 }
 * node.storage.placed()                                             // with lastProvenAt
 * // On the keeper:
 * node.storage.kept()                                               // what it keeps, for whom
 * ```
 */
import { CID } from 'multiformats/cid'
import {
  DEFAULT_STORAGE_CHALLENGE_POOL,
  DEFAULT_STORAGE_CHALLENGE_RANGE_BYTES,
  DEFAULT_STORAGE_CHECK_HISTORY,
  DEFAULT_STORAGE_CHECK_MEAN_MS,
  DEFAULT_STORAGE_EXPIRY_GRACE_MS,
  DEFAULT_STORAGE_FETCH_TIMEOUT_MS,
  DEFAULT_STORAGE_FETCHES,
  DEFAULT_STORAGE_INBOUND_STREAMS,
  DEFAULT_STORAGE_KEPT_MAX_BYTES,
  DEFAULT_STORAGE_PLACED_MAX,
  DEFAULT_STORAGE_PROOF_MAX_BYTES,
  DEFAULT_STORAGE_PUT_TIMEOUT_MS,
  DEFAULT_STORAGE_PUTS_PER_PEER,
  DEFAULT_STORAGE_RATE_PEERS,
  DEFAULT_STORAGE_REQUEST_TIMEOUT_MS,
  DEFAULT_STORAGE_REQUESTS_PER_MINUTE,
  DEFAULT_STORAGE_SUBJECT_MAX_BYTES,
  DEFAULT_STORAGE_SUBJECT_MAX_COPIES,
  DEFAULT_STORAGE_SWEEP_MS,
} from '../core/constants.ts'
import type { Contribution } from '../core/contribution.ts'
import type { DelegationAuthority } from '../core/delegations.ts'
import { InvalidInputError, NotFoundError, PeerUnreachableError, QuotaExceededError } from '../core/errors.ts'
import type { IdentityDirectory } from '../core/identities.ts'
import type { ComponentLogger } from '../core/logger.ts'
import { publicKeyFromPeerId } from '../core/signer.ts'
import type { Net } from '../net/index.ts'
import type { Datastore } from '../store/datastore.ts'
import { CheckSchedule } from './check-schedule.ts'
import type { StorageContent } from './content-port.ts'
import type { BlockSource } from './dag-walk.ts'
import { GrantSweep } from './grant-sweep.ts'
import { Keeper, type StorageRefusal } from './keeper.ts'
import { type DropReason, KeptCopies } from './kept-copies.ts'
import { type KeptCopy, KeptStore } from './kept-store.ts'
import { Owner, type PlacementView, viewOf } from './owner.ts'
import { type CheckResult, PlacementStore } from './placements.ts'
import { Serial } from './serial.ts'

/** Limits and deadlines; each defaults to the constant named DEFAULT_STORAGE_<NAME> in core/constants.ts. */
export interface StorageInit {
  /** Mean time between two scheduled checks of one copy, ms; 0 turns scheduled checks off. */
  checkMeanMs?: number
  challengePool?: number
  challengeRangeBytes?: number
  expiryGraceMs?: number
  sweepIntervalMs?: number
  fetchTimeoutMs?: number
  putTimeoutMs?: number
  requestTimeoutMs?: number
  keptMaxBytes?: number
  subjectMaxBytes?: number
  subjectMaxCopies?: number
  placedMax?: number
  putsPerPeer?: number
  fetches?: number
  requestsPerMinute?: number
  ratePeers?: number
  inboundStreams?: number
  proofMaxBytes?: number
  checkHistory?: number
}

export interface StorageComponents {
  net: Net
  datastore: Datastore
  blockstore: BlockSource
  logger: ComponentLogger
  identity: Pick<IdentityDirectory, 'self' | 'devicesOf'>
  delegation: DelegationAuthority
  content: StorageContent
}

/** How a put went on one keeper. */
export interface PutOutcome {
  peer: string
  status: 'kept' | 'refused' | 'unreachable'
  size?: number
  /** The refusal's name (QuotaExceededError, StorageRefusedError, ...) and text. */
  error?: string
  code?: string
}

/** What this node keeps for one identity, and under which grant. */
export interface SubjectUsage {
  subject: string
  usedBytes: number
  copies: number
  /** The grant's quota (smallest along its chain), when a valid grant sets one. */
  quota?: number
  /** active: a valid grant covers the copies; lapsed: none does, and they go at `dropAt`. */
  state: 'active' | 'lapsed'
  expiresAt?: number
  dropAt?: number
}

export type CheckOutcome = CheckResult & { cid: string; peer: string }
export type PlacementListing = PlacementView & { nextCheckAt?: number }

export interface StorageEvents {
  'storage:kept': CustomEvent<KeptCopy>
  'storage:dropped': CustomEvent<KeptCopy & { reason: DropReason }>
  'storage:refused': CustomEvent<StorageRefusal>
  'storage:placed': CustomEvent<PlacementView>
  'storage:withdrawn': CustomEvent<{ cid: string; peer: string }>
  'storage:checked': CustomEvent<CheckOutcome>
}

export interface Storage {
  start(): Promise<void>
  stop(): Promise<void>
  /** Ask a keeper (a peer ID), or each device of an identity (an identity ID), to keep `cid`. */
  put(cid: string, on: string): Promise<PutOutcome[]>
  /** Ask the keeper(s) to drop `cid`; returns the peers that dropped it. */
  drop(cid: string, on: string): Promise<string[]>
  /** A storage challenge now, on each keeper of `cid` named by `on`. */
  check(cid: string, on: string): Promise<CheckOutcome[]>
  /** Copies placed with keepers (all, or those on `on`: a peer ID or an identity ID). */
  placed(on?: string): PlacementListing[]
  /** Copies kept here for others. */
  kept(): KeptCopy[]
  /** What is kept here per identity, with its grant. */
  keptFor(): Promise<SubjectUsage[]>
  /** Judge kept copies against their grants now; returns how many were dropped. */
  sweep(): Promise<number>
  /** The contribution ledger's side: it counts the bytes this node keeps for each device (receipts of kind storage). */
  setContribution(contribution: Contribution | undefined): void
  addEventListener<K extends keyof StorageEvents>(type: K, listener: (evt: StorageEvents[K]) => void): void
  removeEventListener<K extends keyof StorageEvents>(type: K, listener: (evt: StorageEvents[K]) => void): void
}

export function createStorage(init: StorageInit, components: StorageComponents): Storage {
  const events = new EventTarget()
  let contribution: Contribution | undefined
  /** What this node keeps for `device` (the one that asked), for the ledger's receipts. */
  const reportHolding = (device: string) => {
    const bytes = copies.all().reduce((sum, c) => (c.from === device ? sum + c.size : sum), 0)
    contribution?.holding(device, bytes, 'storage')
  }
  const emit = (type: string, detail: unknown) => {
    if (type === 'storage:kept' || type === 'storage:dropped') reportHolding((detail as { from: string }).from)
    return events.dispatchEvent(new CustomEvent(type, { detail }))
  }
  const log = components.logger.forComponent('lateral:storage')
  const requestTimeoutMs = init.requestTimeoutMs ?? DEFAULT_STORAGE_REQUEST_TIMEOUT_MS
  const proofMaxBytes = init.proofMaxBytes ?? DEFAULT_STORAGE_PROOF_MAX_BYTES
  const rangeBytes = init.challengeRangeBytes ?? DEFAULT_STORAGE_CHALLENGE_RANGE_BYTES
  const graceMs = init.expiryGraceMs ?? DEFAULT_STORAGE_EXPIRY_GRACE_MS
  const fetchTimeoutMs = init.fetchTimeoutMs ?? DEFAULT_STORAGE_FETCH_TIMEOUT_MS
  const serial = new Serial()
  const collector = garbageCollector(components.content, log)
  const copies = new KeptCopies({ store: new KeptStore(components.datastore), content: components.content, log, emit })
  const keeper = new Keeper(
    {
      keptMaxBytes: init.keptMaxBytes ?? DEFAULT_STORAGE_KEPT_MAX_BYTES,
      subjectMaxBytes: init.subjectMaxBytes ?? DEFAULT_STORAGE_SUBJECT_MAX_BYTES,
      subjectMaxCopies: init.subjectMaxCopies ?? DEFAULT_STORAGE_SUBJECT_MAX_COPIES,
      putsPerPeer: init.putsPerPeer ?? DEFAULT_STORAGE_PUTS_PER_PEER,
      fetches: init.fetches ?? DEFAULT_STORAGE_FETCHES,
      requestsPerMinute: init.requestsPerMinute ?? DEFAULT_STORAGE_REQUESTS_PER_MINUTE,
      ratePeers: init.ratePeers ?? DEFAULT_STORAGE_RATE_PEERS,
      inboundStreams: init.inboundStreams ?? DEFAULT_STORAGE_INBOUND_STREAMS,
      fetchTimeoutMs,
      requestTimeoutMs,
      proofMaxBytes,
      rangeMaxBytes: rangeBytes,
    },
    { ...components, copies, serial, log, collect: collector.soon, emit },
  )
  const sweep = new GrantSweep(
    { graceMs, intervalMs: init.sweepIntervalMs ?? DEFAULT_STORAGE_SWEEP_MS, repairTimeoutMs: requestTimeoutMs },
    { delegation: components.delegation, copies, serial, log, collect: collector.soon },
  )
  const owner = new Owner(
    {
      poolSize: init.challengePool ?? DEFAULT_STORAGE_CHALLENGE_POOL,
      rangeBytes,
      putTimeoutMs: init.putTimeoutMs ?? DEFAULT_STORAGE_PUT_TIMEOUT_MS,
      requestTimeoutMs,
      proofMaxBytes,
      checkHistory: init.checkHistory ?? DEFAULT_STORAGE_CHECK_HISTORY,
      placedMax: init.placedMax ?? DEFAULT_STORAGE_PLACED_MAX,
    },
    { ...components, store: new PlacementStore(components.datastore), log, emit },
  )
  const checkMeanMs = init.checkMeanMs ?? DEFAULT_STORAGE_CHECK_MEAN_MS
  const schedule = new CheckSchedule(checkMeanMs, { check: (peer, cid) => owner.check(cid, peer), log })

  /** The keepers `on` names: a peer ID, or the devices of an identity but this one. */
  const keepers = (on: string): { peers: string[]; identity?: string } => {
    const devices = components.identity.devicesOf(on)
    if (devices !== undefined) {
      const peers = devices.filter((d) => d !== components.net.peerId)
      if (peers.length === 0) throw new InvalidInputError(`identity ${on} has no device but this one`)
      return { peers, identity: on }
    }
    if (isIdentityId(on)) {
      throw new NotFoundError(`identity ${on} is not known here yet: its log arrives when one of its devices connects`)
    }
    if (on === components.net.peerId) throw new InvalidInputError('this node cannot keep content for itself')
    try {
      publicKeyFromPeerId(on)
    } catch {
      throw new InvalidInputError(`${on.slice(0, 80)} is not a peer ID, a contact name or an identity ID`)
    }
    return { peers: [on] }
  }

  return {
    setContribution(c) {
      contribution = c
      if (c !== undefined) for (const device of new Set(copies.all().map((k) => k.from))) reportHolding(device)
    },
    async start() {
      await copies.load()
      await owner.load()
      // The Delegations view shows how much of each /store/put grant is used, on both sides.
      components.delegation.provideUsage('/store/put', {
        held: (subject) => copies.usage(subject).bytes,
        placed: (peer) => owner.list().reduce((sum, p) => (p.peer === peer ? sum + p.size : sum), 0),
      })
      await keeper.start()
      await sweep.start()
      if (checkMeanMs > 0) {
        for (const p of owner.list()) schedule.add(p.peer, p.cid)
        schedule.start()
      }
    },
    async stop() {
      owner.close()
      await schedule.stop()
      await sweep.stop()
      await keeper.stop()
      await collector.stop()
    },

    async put(cid, on) {
      const { peers, identity } = keepers(on)
      const outcomes = await Promise.all(
        peers.map(async (peer): Promise<PutOutcome & { err?: Error }> => {
          try {
            const placement = await owner.put(cid, peer)
            if (checkMeanMs > 0) schedule.add(peer, cid)
            return { peer, status: 'kept', size: placement.size }
          } catch (err) {
            const e = err as Error & { code?: string }
            const status = e instanceof PeerUnreachableError ? 'unreachable' : 'refused'
            return { peer, status, error: e.message, code: e.code ?? e.name, err: e }
          }
        }),
      )
      if (outcomes.some((o) => o.status === 'kept')) return outcomes.map(({ err: _err, ...o }) => o)
      if (identity === undefined) throw outcomes[0]?.err
      // No device kept it: the most telling error for the whole, with every device's reason.
      const errors = outcomes.map((o) => o.err as Error)
      const lead =
        errors.find((e) => e instanceof QuotaExceededError) ??
        errors.find((e) => !(e instanceof PeerUnreachableError)) ??
        (errors[0] as Error)
      lead.message = `no device of identity ${identity} keeps ${cid}: ${outcomes.map((o) => `${o.peer}: ${o.error}`).join('; ')}`
      throw lead
    },

    async drop(cid, on) {
      const peers = placedOn(cid, on)
      const dropped: string[] = []
      for (const peer of peers) {
        await owner.drop(cid, peer)
        schedule.remove(peer, cid)
        dropped.push(peer)
      }
      return dropped
    },

    async check(cid, on) {
      return Promise.all(placedOn(cid, on).map(async (peer) => ({ cid, peer, ...(await owner.check(cid, peer)) })))
    },

    placed(on) {
      const peers = on === undefined ? undefined : new Set(keepers(on).peers)
      return owner
        .list()
        .filter((p) => peers === undefined || peers.has(p.peer))
        .map((p) => {
          const due = schedule.dueAt(p.peer, p.cid)
          return { ...viewOf(p), ...(due === undefined ? {} : { nextCheckAt: due }) }
        })
    },

    kept: () => copies.all(),

    async keptFor() {
      const out: SubjectUsage[] = []
      for (const [subject, list] of copies.bySubject()) {
        const usedBytes = list.reduce((n, c) => n + c.size, 0)
        const grant = await components.delegation.held(subject, '/store/put')
        if (grant !== undefined) {
          out.push({
            subject,
            usedBytes,
            copies: list.length,
            state: 'active',
            expiresAt: grant.expiresAt,
            ...(grant.quota === undefined ? {} : { quota: grant.quota }),
          })
        } else {
          const expiresAt = Math.max(...list.map((c) => c.grantExpiresAt))
          out.push({ subject, usedBytes, copies: list.length, state: 'lapsed', expiresAt, dropAt: expiresAt + graceMs })
        }
      }
      return out
    },

    sweep: () => sweep.sweep(),
    addEventListener: (type, listener) => events.addEventListener(type, listener as (evt: Event) => void),
    removeEventListener: (type, listener) => events.removeEventListener(type, listener as (evt: Event) => void),
  }

  /** The keepers of `cid` among those `on` names; NotFoundError when there is none. */
  function placedOn(cid: string, on: string): string[] {
    const peers = keepers(on).peers.filter((peer) => owner.get(peer, cid) !== undefined)
    if (peers.length === 0) throw new NotFoundError(`${cid} is not placed with ${on} (lateral store list)`)
    return peers
  }
}

/** Whether a string is an identity ID (a CIDv1 of DAG-CBOR) rather than a peer ID. */
function isIdentityId(value: string): boolean {
  try {
    const cid = CID.parse(value)
    return cid.version === 1 && cid.code === 0x71
  } catch {
    return false
  }
}

/** Content's gc, run soon after copies went, once at a time (a request during a run runs once more after it). */
function garbageCollector(content: StorageContent, log: ReturnType<ComponentLogger['forComponent']>) {
  let running: Promise<void> | undefined
  let again = false
  let stopped = false
  const soon = (): void => {
    if (stopped) return
    if (running !== undefined) {
      again = true
      return
    }
    running = content
      .gc()
      .then(
        () => undefined,
        (err: Error) => log.warn('gc after a drop failed', { error: err.message }),
      )
      .finally(() => {
        running = undefined
        if (again) {
          again = false
          soon()
        }
      })
  }
  return {
    soon,
    async stop() {
      stopped = true
      await running
    },
  }
}
