/**
 * The identity service: this device's identity (a log of the devices of one person), linking a
 * new device with a short code, removing devices, syncing logs with peers, contacts, and the
 * directory other services ask (who is a device of whom, which devices were removed).
 */
import { hostname } from 'node:os'
import * as cbor from '@ipld/dag-cbor'
import { Key } from 'interface-datastore'
import { IDENTITY_REFRESH_PEERS, IDENTITY_REFRESH_REMEMBERED, IDENTITY_REFRESH_WAIT_MS } from '../core/constants.ts'
import { InvalidInputError, NotFoundError } from '../core/errors.ts'
import type { IdentityDirectory, IdentityHeads, Revocation } from '../core/identities.ts'
import type { ComponentLogger, Logger } from '../core/logger.ts'
import type { Startable } from '../core/service.ts'
import type { KeyAgreement, Signer } from '../core/signer.ts'
import { type DataVault, deviceVault } from '../core/vault.ts'
import type { Net } from '../net/index.ts'
import type { Datastore } from '../store/datastore.ts'
import type { IdentityConfig } from './config.ts'
import { type Contact, ContactBook } from './contacts/contact-book.ts'
import type { Identity, IdentityEvents } from './identity-api.ts'
import { identityVault } from './identity-vault.ts'
import { KnownIdentities } from './known-identities.ts'
import { linkAsExistingDevice, linkAsNewDevice, type WelcomeOutcome } from './linking.ts'
import { createIdentityLogStore, IdentityLog, type IdentityLogStore, newDataKey } from './log/index.ts'
import { PAIRING_PROTOCOL, PairingResponder, servePairing } from './pairing/index.ts'
import { Pairings } from './pairings.ts'
import { Recovery, type RecoverySessionView } from './recovery/recovery.ts'
import { type HeadsAnnouncement, HeadsChannel } from './sync/heads.ts'
import { LogSync } from './sync/log-sync.ts'
import type { ContactView, IdentityReply, PairingView } from './views.ts'

const SELF_KEY = new Key('/lateral/identity/self')
/** `<identity>/<epoch>`: data keys rebuilt from guardians' shares, sealed to this device. */
const RECOVERED_PREFIX = '/lateral/identity/recovered/'
/** Head announcements at most this often (each connection asks for one). */
const ANNOUNCE_MIN_GAP_MS = 1_000

export interface IdentityComponents {
  net: Net
  datastore: Datastore
  signer: Signer
  keyAgreement: KeyAgreement
  logger: ComponentLogger
}

export class IdentityService implements Identity, IdentityDirectory, Startable {
  readonly contacts: ContactBook
  /** Seals this node's own data under the identity's data key (the outbox's copies). */
  readonly vault: DataVault
  readonly #config: IdentityConfig
  readonly #c: IdentityComponents
  readonly #log: Logger
  readonly #store: IdentityLogStore
  readonly #known: KnownIdentities
  readonly #events = new EventTarget()
  readonly #pairings: Pairings
  readonly #recovery: Recovery
  /** Data keys of earlier epochs rebuilt from the guardians' shares, by `identity/epoch`. */
  readonly #recoveredKeys = new Map<string, Uint8Array>()
  #lastRecovery: string | undefined
  readonly #responder: PairingResponder
  readonly #sync: LogSync
  readonly #heads: HeadsChannel
  readonly #lastSeen = new Map<string, number>()
  #own: IdentityLog | undefined
  #timer: ReturnType<typeof setInterval> | undefined
  #fetching = new Set<string>()
  /** When each other identity's log was last asked of peers (refresh), oldest first. */
  readonly #refreshed = new Map<string, number>()
  /** Refreshes under way, by identity. */
  readonly #refreshing = new Map<string, Promise<boolean>>()
  readonly #connected = new Set<string>()
  #lastAnnounce = 0
  #announceTimer: ReturnType<typeof setTimeout> | undefined

  constructor(components: IdentityComponents, config: IdentityConfig) {
    this.#c = components
    this.#config = config
    this.#log = components.logger.forComponent('lateral:identity')
    this.vault = identityVault(
      () => this.#ownLog(),
      components.keyAgreement,
      components.signer.peerId,
      (id, epoch) => this.#recoveredKeys.get(`${id}/${epoch}`),
    )
    const logInit = { maxEntries: config.logMaxEntries }
    this.#store = createIdentityLogStore(components.datastore)
    this.#known = new KnownIdentities({ ...logInit, max: config.knownIdentities }, this.#store, this.#log)
    // A contact's log is never evicted to make room for others.
    this.contacts = new ContactBook(components.datastore, {
      max: config.contactsMax,
      onAdd: (contact) => {
        this.#known.pin(contact.identity)
        // Their log now, from a connected peer that keeps it, rather than at their next announcement.
        if (this.#logOf(contact.identity) === undefined) this.refresh(contact.identity).catch(() => {})
      },
    })
    this.#pairings = new Pairings((view) => this.#emit('pairing:update', view))
    this.#responder = new PairingResponder(
      { signer: components.signer, addresses: () => components.net.addresses(), logger: components.logger },
      {
        codeTtlMs: config.pairingCodeTtlMs,
        stepTimeoutMs: config.pairingStepTimeoutMs,
        confirmTimeoutMs: config.pairingConfirmTimeoutMs,
      },
    )
    this.#sync = new LogSync(
      { timeoutMs: config.syncTimeoutMs, maxEntries: config.logMaxEntries },
      { net: components.net, log: this.#log, source: { entriesOf: (id) => this.#logOf(id)?.entries() } },
    )
    this.#recovery = new Recovery(
      {
        net: components.net,
        signer: components.signer,
        keyAgreement: components.keyAgreement,
        log: this.#log,
        ownLog: () => this.#ownLog(),
        logOf: (id) => this.#logOf(id),
        fetchLog: async (peer, id) => {
          const entries = await this.#sync.fetch(peer, id)
          if (entries === undefined) return this.#logOf(id)
          if (this.#own?.id === id) {
            for (const bytes of entries) this.#own.add(bytes)
            await this.#store.save(this.#own)
            return this.#own
          }
          return (await this.#mergeKnown(id, entries)).log
        },
        saveKnown: async (log) => {
          await this.#store.save(log)
          await this.#heads.announce({ id: log.id, heads: log.heads() })
        },
        write: (input) => this.#write(input),
        adopt: async (log) => {
          await this.#adopt(log)
          this.#changed()
        },
        keepRecoveredKey: async (id, epoch, key) => {
          this.#recoveredKeys.set(`${id}/${epoch}`, key)
          await this.#c.datastore.put(
            new Key(`${RECOVERED_PREFIX}${id}/${epoch}`),
            deviceVault(this.#c.keyAgreement).seal(key, 'recovered-key'),
          )
        },
        refresh: (id) => this.refresh(id),
        observeHeads: (from, heads) => void this.#onHeads(from, heads, from),
        pin: (id) => this.#known.pin(id),
        resolveIdentity: async (target) => {
          const r = await this.contacts.resolve(target)
          if (r.identity === undefined) throw new InvalidInputError(`${target} is not a contact or an identity ID`)
          return r.identity
        },
        emit: (view) => this.#emit('recovery:update', view),
        deviceName: () => this.#deviceName(),
      },
      {
        minDelayMs: config.recoveryMinDelayMs,
        codeTtlMs: config.recoveryCodeTtlMs,
        timeoutMs: config.recoveryTimeoutMs,
      },
    )
    this.#heads = new HeadsChannel({
      net: components.net,
      log: this.#log,
      onHeads: (from, a, via) => void this.#onHeads(from, a, via),
    })
  }

  async start(): Promise<void> {
    await this.#known.load()
    for await (const { key, value } of this.#c.datastore.query({ prefix: RECOVERED_PREFIX })) {
      try {
        const name = key.toString().slice(RECOVERED_PREFIX.length)
        this.#recoveredKeys.set(name, deviceVault(this.#c.keyAgreement).open(value, 'recovered-key'))
      } catch (err) {
        this.#log.warn('a recovered data key does not open', { key: key.toString(), error: (err as Error).message })
      }
    }
    this.#own = await this.#loadOwn()
    this.#lastRecovery = this.#own.state().recovery?.entry
    this.#known.pin(this.#own.id)
    for (const c of await this.contacts.list()) this.#known.pin(c.identity)
    await this.#sync.start()
    await servePairing(this.#c.net, this.#responder)
    await this.#recovery.start()
    this.#heads.start()
    for (const c of await this.#c.net.connections()) this.#connected.add(c.peerId)
    this.#c.net.addEventListener('peer:connect', this.#onConnect)
    this.#c.net.addEventListener('peer:disconnect', this.#onDisconnect)
    this.#timer = setInterval(() => void this.#announce(), this.#config.announceIntervalMs)
    this.#timer.unref?.()
    void this.#announce()
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    if (this.#announceTimer !== undefined) clearTimeout(this.#announceTimer)
    this.#announceTimer = undefined
    this.#c.net.removeEventListener('peer:connect', this.#onConnect)
    this.#c.net.removeEventListener('peer:disconnect', this.#onDisconnect)
    this.#pairings.close()
    this.#heads.stop()
    await this.#recovery.stop()
    await this.#c.net.unhandle(PAIRING_PROTOCOL).catch(() => {})
    await this.#sync.stop()
  }

  // IdentityDirectory

  self(): string {
    return this.#ownLog().id
  }

  identityOf(peerId: string): string | undefined {
    const own = this.#ownLog()
    if (own.isMember(peerId) || own.revokedAt(peerId) !== undefined) return own.id
    return this.#known.identityOf(peerId)
  }

  devicesOf(identityId: string): string[] | undefined {
    return this.#logOf(identityId)
      ?.state()
      .devices.map((d) => d.peerId)
  }

  revocation(peerId: string): Revocation | undefined {
    const own = this.#ownLog().revokedAt(peerId)
    if (own !== undefined) return { identity: this.self(), at: own.at, reason: own.lost ? 'lost' : 'removed' }
    return this.#known.revocation(peerId)
  }

  // Identity

  view(): IdentityReply {
    const s = this.#ownLog().state()
    const me = this.#c.signer.peerId
    return {
      id: s.id,
      ...(s.name === undefined ? {} : { name: s.name }),
      devices: s.devices.map((d) => ({
        peerId: d.peerId,
        name: d.name,
        addedAt: d.addedAt,
        ...(d.addedBy === undefined ? {} : { addedBy: d.addedBy }),
        ...(this.#lastSeen.has(d.peerId) ? { lastSeen: this.#lastSeen.get(d.peerId) as number } : {}),
        self: d.peerId === me,
      })),
      removed: s.removed.map((r) => ({
        peerId: r.peerId,
        name: r.name,
        removedAt: r.at,
        removedBy: r.by,
        lost: r.lost,
        ...(r.reason === '' ? {} : { reason: r.reason }),
      })),
      heads: s.heads,
      entries: s.entries,
      dataKeyEpoch: s.dataKey.epoch,
      guardians: {
        ...(s.guardians.current === undefined ? {} : { current: s.guardians.current }),
        ...(s.guardians.pending === undefined ? {} : { pending: s.guardians.pending }),
      },
      ...(s.recovery === undefined ? {} : { recovery: s.recovery }),
    }
  }

  async setName(name: string): Promise<IdentityReply> {
    const { mailboxes } = this.#ownLog().state()
    await this.#write({ kind: 'setProfile', name, mailboxes })
    return this.view()
  }

  /** Name the peers that hold this identity's direct messages while none of its devices is reachable. */
  async setMailboxes(peers: string[]): Promise<IdentityReply> {
    const { name } = this.#ownLog().state()
    await this.#write({ kind: 'setProfile', ...(name === undefined ? {} : { name }), mailboxes: peers })
    return this.view()
  }

  /** Every contact, with what this node knows of each from their signed log. */
  async contactViews(): Promise<ContactView[]> {
    return (await this.contacts.list()).map((c) => this.contactView(c))
  }

  contactView(contact: Contact): ContactView {
    const log = this.#logOf(contact.identity)
    if (log === undefined) return { ...contact }
    const s = log.state()
    return {
      ...contact,
      profile: {
        ...(s.name === undefined ? {} : { name: s.name }),
        devices: s.devices.map((d) => d.peerId),
        mailboxes: s.mailboxes,
        entries: s.entries,
      },
    }
  }

  refresh(identityId: string): Promise<boolean> {
    // A caller that comes while one runs (a contact just added, then a message) shares its answer.
    const running = this.#refreshing.get(identityId)
    if (running !== undefined) return running
    if (identityId === this.#own?.id) return Promise.resolve(false)
    const now = Date.now()
    const last = this.#refreshed.get(identityId)
    if (last !== undefined && now - last < this.#config.refreshMinGapMs) return Promise.resolve(false)
    const run = this.#refreshNow(identityId, now).finally(() => this.#refreshing.delete(identityId))
    this.#refreshing.set(identityId, run)
    return run
  }

  async #refreshNow(identityId: string, now: number): Promise<boolean> {
    const devices = new Set(this.devicesOf(identityId) ?? [])
    const mailboxes = new Set(this.mailboxesOf(identityId) ?? [])
    const rank = (peer: string) => (devices.has(peer) ? 0 : mailboxes.has(peer) ? 1 : 2)
    const peers = [...this.#connected].sort((a, b) => rank(a) - rank(b)).slice(0, IDENTITY_REFRESH_PEERS)
    // Nobody to ask is not an attempt: the next caller asks once this node is connected.
    if (peers.length === 0) return false
    this.#refreshed.delete(identityId)
    this.#refreshed.set(identityId, now)
    if (this.#refreshed.size > IDENTITY_REFRESH_REMEMBERED)
      this.#refreshed.delete(this.#refreshed.keys().next().value as string)
    let changed = false
    const asked = Promise.allSettled(
      peers.map(async (peer) => {
        try {
          const entries = await this.#sync.fetch(peer, identityId)
          if (entries !== undefined && (await this.#mergeKnown(identityId, entries)).changed) changed = true
        } catch (err) {
          this.#log.debug('a peer gave no identity log', { peer, identity: identityId, reason: (err as Error).message })
        }
      }),
    )
    let timer: NodeJS.Timeout | undefined
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, IDENTITY_REFRESH_WAIT_MS)
      timer.unref?.()
    })
    await Promise.race([asked, waited])
    clearTimeout(timer)
    return changed
  }

  mailboxesOf(identityId: string): string[] | undefined {
    const log = this.#own?.id === identityId ? this.#own : this.#known.get(identityId)
    return log?.state().mailboxes
  }

  async link(options: { name?: string } = {}): Promise<PairingView> {
    const name = options.name ?? this.#deviceName()
    const { view, signal } = this.#pairings.open('new-device')
    const result = linkAsNewDevice({
      responder: this.#responder,
      signer: this.#c.signer,
      keyAgreement: this.#c.keyAgreement,
      name,
      confirm: this.#pairings.confirmer(view.id),
      signal,
      maxEntries: this.#config.logMaxEntries,
    })
    const started = this.#pairings.update(view.id, { code: result.code, expiresAt: result.expiresAt })
    void result.welcome.then(
      (welcome) => this.#joined(view.id, welcome),
      (err: Error) => this.#pairings.end(view.id, { error: err }),
    )
    return started
  }

  async add(code: string): Promise<PairingView> {
    const { view, signal } = this.#pairings.open('existing-device')
    void linkAsExistingDevice({
      net: this.#c.net,
      signer: this.#c.signer,
      keyAgreement: this.#c.keyAgreement,
      code,
      confirm: this.#pairings.confirmer(view.id),
      signal,
      log: () => this.#ownLog(),
      write: (input) => this.#write(input),
    }).then(
      (peer) => {
        this.#pairings.update(view.id, { peer })
        this.#pairings.end(view.id, { identity: this.self() })
      },
      (err: Error) => this.#pairings.end(view.id, { error: err }),
    )
    return view
  }

  async confirm(pairingId: string, shortString: string): Promise<PairingView> {
    return this.#pairings.confirm(pairingId, shortString)
  }

  async cancel(pairingId: string): Promise<PairingView> {
    return this.#pairings.cancel(pairingId)
  }

  pairing(pairingId: string): PairingView {
    return this.#pairings.get(pairingId)
  }

  async remove(device: string, options: { lost?: boolean } = {}): Promise<IdentityReply> {
    const s = this.#ownLog().state()
    const target = s.devices.find((d) => d.peerId === device) ?? s.devices.find((d) => d.name === device)
    if (target === undefined) throw new NotFoundError(`no device ${JSON.stringify(device)} in this identity`)
    await this.#write({ kind: 'removeDevice', device: target.peerId, ...(options.lost === true ? { lost: true } : {}) })
    // The removed device saw the old data key: the others get a new one it never sees.
    await this.#write({ kind: 'rotateDataKey', dataKey: newDataKey() })
    // The guardians' backup was of the old key: give them shares of the new one.
    await this.#recovery
      .resplit()
      .catch((err) =>
        this.#log.warn('the guardians got no backup of the new data key', { error: (err as Error).message }),
      )
    return this.view()
  }

  // Recovery

  async setGuardians(targets: string[], options: { threshold: number; delayMs?: number }): Promise<IdentityReply> {
    await this.#recovery.setGuardians(targets, options.threshold, options.delayMs ?? this.#config.recoveryDelayMs)
    return this.view()
  }

  recoverStart(identity: string, options: { name?: string } = {}): Promise<RecoverySessionView> {
    return this.#recovery.startRecovery(identity, options.name)
  }

  recoverApprove(code: string): Promise<RecoverySessionView> {
    return this.#recovery.approve(code)
  }

  recoverConfirm(id: string, typed: string): Promise<RecoverySessionView> {
    return this.#recovery.confirm(id, typed)
  }

  recoverySessions(): RecoverySessionView[] {
    return this.#recovery.sessions()
  }

  recoverySession(id: string): RecoverySessionView {
    return this.#recovery.session(id)
  }

  async veto(): Promise<IdentityReply> {
    await this.#recovery.veto()
    return this.view()
  }

  ownHeads(): IdentityHeads | undefined {
    return this.#own === undefined ? undefined : { id: this.#own.id, heads: this.#own.heads() }
  }

  observeHeads(from: string, heads: IdentityHeads, via: string): void {
    void this.#onHeads(from, heads, via)
  }

  dataKey(): { epoch: number; key: Uint8Array } {
    return this.#ownLog().openDataKey(this.#c.keyAgreement, this.#c.signer.peerId)
  }

  addEventListener<K extends keyof IdentityEvents>(type: K, listener: (evt: IdentityEvents[K]) => void): void {
    this.#events.addEventListener(type, listener as (evt: Event) => void)
  }

  removeEventListener<K extends keyof IdentityEvents>(type: K, listener: (evt: IdentityEvents[K]) => void): void {
    this.#events.removeEventListener(type, listener as (evt: Event) => void)
  }

  // internals

  #ownLog(): IdentityLog {
    if (this.#own === undefined) throw new InvalidInputError('the identity service has not started')
    return this.#own
  }

  #logOf(id: string): IdentityLog | undefined {
    return this.#own?.id === id ? this.#own : this.#known.get(id)
  }

  #deviceName(): string {
    return this.#config.deviceName === '' ? hostname().slice(0, 64) || 'device' : this.#config.deviceName
  }

  async #loadOwn(): Promise<IdentityLog> {
    if (await this.#c.datastore.has(SELF_KEY)) {
      const id = cbor.decode(await this.#c.datastore.get(SELF_KEY)) as string
      const log = await this.#store.load(id, { maxEntries: this.#config.logMaxEntries })
      if (log?.isMember(this.#c.signer.peerId) === true) return log
      this.#log.warn('this device is no longer in its stored identity: starting a new one', { identity: id })
    }
    // A device starts as an identity of one device, with its first data key.
    const log = await IdentityLog.create(
      this.#c.signer,
      this.#c.keyAgreement,
      { name: this.#deviceName() },
      {
        maxEntries: this.#config.logMaxEntries,
      },
    )
    await log.append(this.#c.signer, { kind: 'rotateDataKey', dataKey: newDataKey() })
    await this.#adopt(log)
    this.#log.info('started a new identity', { identity: log.id })
    return log
  }

  async #adopt(log: IdentityLog): Promise<void> {
    await this.#store.save(log)
    await this.#c.datastore.put(SELF_KEY, cbor.encode(log.id))
    this.#own = log
    this.#known.pin(log.id)
  }

  async #write(input: Parameters<IdentityLog['append']>[1]): Promise<void> {
    const own = this.#ownLog()
    await own.append(this.#c.signer, input)
    await this.#store.save(own)
    this.#changed()
  }

  #changed(): void {
    const view = this.view()
    this.#emit('identity:change', view)
    // Every current device is told the moment a recovery of its identity starts, so it can veto.
    if (view.recovery?.state === 'pending' && view.recovery.entry !== this.#lastRecovery) {
      this.#log.warn('a recovery of this identity started: veto it now if it is not yours', {
        device: view.recovery.device,
        dueAt: new Date(view.recovery.dueAt).toISOString(),
      })
      this.#emit('recovery:started', view.recovery)
    }
    this.#lastRecovery = view.recovery?.entry
    void this.#announce()
  }

  async #joined(pairingId: string, welcome: WelcomeOutcome): Promise<void> {
    try {
      const previous = this.#own
      await this.#adopt(welcome.log)
      if (previous !== undefined && previous.id !== welcome.log.id) {
        const others = previous.state().devices.length - 1
        if (others > 0 || (await this.contacts.list()).length > 0) {
          this.#log.warn('this device left its own identity to join another', {
            left: previous.id,
            joined: welcome.log.id,
            otherDevicesLeft: others,
          })
        }
      }
      this.#pairings.update(pairingId, { peer: welcome.peer })
      this.#pairings.end(pairingId, { identity: welcome.log.id })
      this.#changed()
    } catch (err) {
      this.#pairings.end(pairingId, { error: err as Error })
    }
  }

  /** Announce the heads now, or once a second at most: connections come in bursts. */
  async #announce(): Promise<void> {
    if (this.#own === undefined || this.#announceTimer !== undefined) return
    const wait = this.#lastAnnounce + ANNOUNCE_MIN_GAP_MS - Date.now()
    if (wait > 0) {
      this.#announceTimer = setTimeout(() => {
        this.#announceTimer = undefined
        void this.#announce()
      }, wait)
      this.#announceTimer.unref?.()
      return
    }
    this.#lastAnnounce = Date.now()
    await this.#heads.announce({ id: this.#own.id, heads: this.#own.heads() })
  }

  readonly #onDisconnect = (evt: CustomEvent<{ peerId: string }>): void => {
    this.#connected.delete(evt.detail.peerId)
  }

  readonly #onConnect = (evt: CustomEvent<{ peerId: string }>): void => {
    const peer = evt.detail.peerId
    this.#connected.add(peer)
    if (this.#own?.isMember(peer) === true) this.#lastSeen.set(peer, Date.now())
    void this.#announce()
  }

  /**
   * Heads of an identity this node cares about (its own, one it keeps, or that of a device it
   * is connected to): fetch what it lacks from the author when connected, else from the peer
   * that forwarded the announcement. Never dials anyone for it.
   */
  async #onHeads(from: string, a: HeadsAnnouncement, via: string): Promise<void> {
    const own = this.#own
    if (own?.isMember(from) === true) this.#lastSeen.set(from, Date.now())
    const mine = own?.id === a.id
    const cares = mine || this.#known.isPinned(a.id) || this.#known.get(a.id) !== undefined || this.#connected.has(from)
    if (!cares) return
    const missing = mine ? a.heads.some((h) => own?.entry(h) === undefined) : this.#known.lacks(a.id, a.heads)
    const source = this.#connected.has(from) ? from : via
    const key = `${a.id}:${source}`
    if (!missing || this.#fetching.has(key) || !this.#connected.has(source)) return
    this.#fetching.add(key)
    try {
      const entries = await this.#sync.fetch(source, a.id)
      if (entries === undefined) return
      if (mine && own !== undefined) {
        const before = own.heads().join()
        for (const bytes of entries) own.add(bytes)
        if (own.heads().join() !== before) {
          await this.#store.save(own)
          this.#changed()
        }
      } else {
        await this.#mergeKnown(a.id, entries)
      }
    } catch (err) {
      this.#log.info('refused an identity log from a peer', { from, identity: a.id, reason: (err as Error).message })
    } finally {
      this.#fetching.delete(key)
    }
  }

  /** Take verified entries of another identity's log; tell the surfaces when a contact's changed. */
  async #mergeKnown(id: string, entries: Uint8Array[]): Promise<{ log: IdentityLog; changed: boolean }> {
    const merged = await this.#known.merge(id, entries)
    // Contacts are pinned: only their logs are worth a look at the contact list.
    if (merged.changed && this.#known.isPinned(id)) {
      for (const c of await this.contacts.list())
        if (c.identity === id) this.#emit('contact:update', this.contactView(c))
    }
    return merged
  }

  #emit<K extends keyof IdentityEvents>(type: K, detail: IdentityEvents[K]['detail']): void {
    this.#events.dispatchEvent(new CustomEvent(type, { detail }))
  }
}
