/**
 * The mailbox service: this node as a mailbox for the identities that granted it `/msg/deposit`
 * (it holds their sealed direct messages while their devices are away and hands them over when
 * one comes back), and as a device that collects its own mail from its identity's mailboxes and
 * deposits with others' mailboxes what it cannot deliver (messaging's outbox fallback).
 *
 * @example
 * ```ts
 * const { holding, mailboxes } = await node.mailbox.status()   // what I hold for others; my mailboxes
 * const results = await node.mailbox.collect()                 // collect my mail now
 * node.mailbox.addEventListener('mailbox:deposited', (e) => console.log(e.detail.identity, e.detail.bytes))
 * ```
 */
import {
  DEFAULT_MAILBOX_COLLECT_INTERVAL_MS,
  DEFAULT_MAILBOX_ENVELOPE_MAX_BYTES,
  DEFAULT_MAILBOX_IDLE_TIMEOUT_MS,
  DEFAULT_MAILBOX_INBOUND_STREAMS,
  DEFAULT_MAILBOX_LAPSE_GRACE_MS,
  DEFAULT_MAILBOX_MAX_BYTES,
  DEFAULT_MAILBOX_MAX_MESSAGES,
  DEFAULT_MAILBOX_MAX_MESSAGES_PER_IDENTITY,
  DEFAULT_MAILBOX_MESSAGE_TTL_MS,
  DEFAULT_MAILBOX_OPEN_TIMEOUT_MS,
  DEFAULT_MAILBOX_QUOTA_BYTES,
  DEFAULT_MAILBOX_SENDER_SHARE_PERCENT,
  DEFAULT_MAILBOX_SWEEP_INTERVAL_MS,
  MAILBOX_PROTOCOL,
} from '../core/constants.ts'
import type { Contribution } from '../core/contribution.ts'
import { InvalidInputError, MailboxRefusedError } from '../core/errors.ts'
import { encodeFrame } from '../core/framing.ts'
import { errorFields } from '../core/logger.ts'
import type { Startable } from '../core/service.ts'
import { Collector, type CollectResult } from './collector.ts'
import type { MailboxConfig } from './config.ts'
import { Depositor } from './depositor.ts'
import { HandOver, type HandOverEvents } from './hand-over.ts'
import { type KeeperEvents, MailKeeper } from './keeper.ts'
import { MailIndex } from './mail-index.ts'
import { MailStore } from './mail-store.ts'
import { Retention } from './retention.ts'
import { DEPOSIT_COMMAND, type MailboxComponents, type WaitingEnvelopes } from './seams.ts'
import { MailboxServer } from './server.ts'
import { encode } from './wire.ts'

/** Every limit; each defaults to the constant named like it (core/constants.ts, DEFAULT_MAILBOX_*). */
export type MailboxInit = Partial<MailboxConfig>

export interface MailboxEvents {
  /** This node took a message for an identity it holds a grant from. */
  'mailbox:deposited': CustomEvent<KeeperEvents['mailbox:deposited']>
  /** This node refused a deposit (the code says why). */
  'mailbox:refused': CustomEvent<KeeperEvents['mailbox:refused']>
  /** Held mail went without being handed over: expired, grant revoked or lapsed, device removed. */
  'mailbox:dropped': CustomEvent<KeeperEvents['mailbox:dropped']>
  /** A device collected its mail from this node. */
  'mailbox:handed-over': CustomEvent<HandOverEvents['mailbox:handed-over']>
  /** This device collected from one of its mailboxes. */
  'mailbox:collected': CustomEvent<CollectResult>
}

/** What this node holds for one identity. */
export interface Holding {
  identity: string
  messages: number
  bytes: number
  /** The quota of the grant held now (bytes); absent when the grant lapsed. */
  quota?: number
  senders: number
  devices: Array<{ device: string; messages: number }>
  /** When the oldest message held was deposited. */
  oldest: number
  /** `active`: the grant holds; `lapsed`: expired or revoked, the mail goes at `dropsAt`. */
  grant: 'active' | 'lapsed'
  /** CID of the grant held, while active. */
  grantCid?: string
  /** When the grant ends (active) or when the mail will be dropped (lapsed). */
  until?: number
}

export interface MailboxStatus {
  /** This node's identity ('' when it has none). */
  identity: string
  /** The identity's mailboxes (its profile), with the last collection from each. */
  mailboxes: Array<{ peerId: string; connected: boolean; last?: CollectResult }>
  holding: Holding[]
  total: { messages: number; bytes: number; maxMessages: number; maxBytes: number }
}

export interface Mailbox extends Startable {
  status(): Promise<MailboxStatus>
  /** The contribution ledger's side: it counts the bytes this mailbox holds for each device (receipts of kind mailbox). */
  setContribution(contribution: Contribution | undefined): void
  /** Collect this device's mail now, from every mailbox of its identity or from one. */
  collect(options?: { mailbox?: string }): Promise<CollectResult[]>
  addEventListener<K extends keyof MailboxEvents>(type: K, listener: (evt: MailboxEvents[K]) => void): void
  removeEventListener<K extends keyof MailboxEvents>(type: K, listener: (evt: MailboxEvents[K]) => void): void
}

export function createMailbox(init: MailboxInit, components: MailboxComponents): Mailbox {
  const events = new EventTarget()
  const emit = (type: string, detail: unknown) => events.dispatchEvent(new CustomEvent(type, { detail }))
  const log = components.logger.forComponent('lateral:mailbox')
  const { net, identity, messaging, delegation } = components
  const limits = {
    defaultQuotaBytes: init.defaultQuotaBytes ?? DEFAULT_MAILBOX_QUOTA_BYTES,
    maxBytes: init.maxBytes ?? DEFAULT_MAILBOX_MAX_BYTES,
    maxMessagesPerIdentity: init.maxMessagesPerIdentity ?? DEFAULT_MAILBOX_MAX_MESSAGES_PER_IDENTITY,
    maxMessages: init.maxMessages ?? DEFAULT_MAILBOX_MAX_MESSAGES,
    senderSharePercent: init.senderSharePercent ?? DEFAULT_MAILBOX_SENDER_SHARE_PERCENT,
    messageTtlMs: init.messageTtlMs ?? DEFAULT_MAILBOX_MESSAGE_TTL_MS,
    maxEnvelopeBytes: init.maxEnvelopeBytes ?? DEFAULT_MAILBOX_ENVELOPE_MAX_BYTES,
  }
  const openTimeoutMs = init.openTimeoutMs ?? DEFAULT_MAILBOX_OPEN_TIMEOUT_MS
  const idleTimeoutMs = init.idleTimeoutMs ?? DEFAULT_MAILBOX_IDLE_TIMEOUT_MS
  const lapseGraceMs = init.lapseGraceMs ?? DEFAULT_MAILBOX_LAPSE_GRACE_MS

  const store = new MailStore(components.datastore)
  const index = new MailIndex()
  let contribution: Contribution | undefined
  const reportHolding = (identity: string, device: string) =>
    contribution?.holding(
      device,
      index.messages(identity, device).reduce((sum, m) => sum + m.size, 0),
      'mailbox',
    )
  index.onChange = reportHolding
  const keeper = new MailKeeper(limits, { store, index, identity, delegation, log, emit })
  const handOver = new HandOver({ keeper, index, store, identity, log, emit })
  const retention = new Retention(
    { lapseGraceMs, sweepIntervalMs: init.sweepIntervalMs ?? DEFAULT_MAILBOX_SWEEP_INTERVAL_MS },
    { keeper, index, identity, delegation, log },
  )
  const collector = new Collector(
    {
      openTimeoutMs,
      idleTimeoutMs,
      collectIntervalMs: init.collectIntervalMs ?? DEFAULT_MAILBOX_COLLECT_INTERVAL_MS,
      maxEnvelopeBytes: limits.maxEnvelopeBytes,
    },
    { net, identity, messaging, log, emit },
  )

  /** Tell a connected device that mail waits for it (once at a time per device). */
  const notifying = new Set<string>()
  const notify = async (holder: string, device: string) => {
    if (notifying.has(device)) return
    notifying.add(device)
    try {
      // Only over a connection that exists: a device away is told nothing (it collects when back).
      if (!(await net.connections()).some((c) => c.peerId === device)) return
      const stream = await net.openStream(device, MAILBOX_PROTOCOL, { signal: AbortSignal.timeout(openTimeoutMs) })
      const count = index.messages(holder, device).length
      await stream.write(encodeFrame(encode({ op: 'notify', identity: holder, count })), {
        signal: AbortSignal.timeout(idleTimeoutMs),
      })
      await stream.close({ signal: AbortSignal.timeout(idleTimeoutMs) }).catch(() => stream.abort(new Error('close')))
    } catch (err) {
      log.debug('could not tell a device of its mail', { device, ...errorFields(err) })
    } finally {
      notifying.delete(device)
    }
  }

  const server = new MailboxServer(
    { idleTimeoutMs, maxEnvelopeBytes: limits.maxEnvelopeBytes },
    {
      net,
      keeper,
      handOver,
      onNotify: (from, id) => collector.onNotify(from, id),
      onDeposited: (holder, device) => void notify(holder, device),
      log,
    },
  )

  /** This node is itself a mailbox of the recipient's identity: hold the mail here. */
  const depositHere = async (holder: string, device: string, envelopes: WaitingEnvelopes): Promise<number> => {
    const admission = await keeper.admit(holder, device, net.peerId)
    if ('code' in admission) throw new MailboxRefusedError(`${admission.code}: ${admission.error}`, admission.code)
    let taken = 0
    for (const { envelope } of envelopes) {
      const answer = await keeper.accept(admission, net.peerId, envelope)
      if (!answer.ok) {
        if (taken === 0) throw new MailboxRefusedError(`${answer.code}: ${answer.error}`, answer.code ?? 'refused')
        break
      }
      taken++
    }
    return taken
  }
  const depositor = new Depositor({ openTimeoutMs, idleTimeoutMs }, { net, identity, depositHere, log })

  return {
    setContribution(c) {
      contribution = c
      if (c === undefined) return
      for (const identity of index.identities())
        for (const device of index.devices(identity).keys()) reportHolding(identity, device)
    },
    async start() {
      await keeper.start()
      await net.handle(MAILBOX_PROTOCOL, (stream) => server.serve(stream), {
        maxInboundStreams: init.inboundStreams ?? DEFAULT_MAILBOX_INBOUND_STREAMS,
      })
      messaging.setFallback(depositor)
      // The Delegations view shows how much of each /msg/deposit grant this node's mailbox uses.
      delegation.provideUsage(DEPOSIT_COMMAND, { held: (identity) => index.usage(identity).bytes })
      retention.start()
      collector.start()
    },
    async stop() {
      messaging.setFallback(undefined)
      await net.unhandle(MAILBOX_PROTOCOL).catch(() => {})
      await collector.stop()
      await retention.stop()
    },
    async status() {
      const self = identity.self()
      const connected = new Set((await net.connections()).map((c) => c.peerId))
      const holding: Holding[] = []
      for (const holder of index.identities()) {
        const all = index.all(holder)
        if (all.length === 0) continue
        const usage = index.usage(holder)
        const grant = await delegation.held(holder, DEPOSIT_COMMAND)
        const record = keeper.grantRecord(holder)
        holding.push({
          identity: holder,
          messages: usage.messages,
          bytes: usage.bytes,
          ...(grant === undefined ? {} : { quota: keeper.quotaOf(grant) }),
          senders: index.senders(holder),
          devices: [...index.devices(holder)].map(([device, list]) => ({ device, messages: list.length })),
          oldest: Math.min(...all.map((m) => m.depositedAt)),
          grant: grant === undefined ? 'lapsed' : 'active',
          ...(grant === undefined
            ? record === undefined
              ? {}
              : { until: record.expiresAt + lapseGraceMs }
            : { grantCid: grant.cid, until: grant.expiresAt }),
        })
      }
      const total = index.total()
      return {
        identity: self,
        mailboxes: collector.mailboxes().map((peerId) => {
          const last = collector.last(peerId)
          return { peerId, connected: connected.has(peerId), ...(last === undefined ? {} : { last }) }
        }),
        holding,
        total: { ...total, maxMessages: limits.maxMessages, maxBytes: limits.maxBytes },
      }
    },
    async collect(options = {}) {
      const mine = collector.mailboxes()
      if (options.mailbox !== undefined && !mine.includes(options.mailbox)) {
        throw new InvalidInputError(`${options.mailbox} is not a mailbox of this identity (lateral mailbox lists them)`)
      }
      return collector.collect(options.mailbox)
    },
    addEventListener: (type, listener) => events.addEventListener(type, listener as (evt: Event) => void),
    removeEventListener: (type, listener) => events.removeEventListener(type, listener as (evt: Event) => void),
  }
}
