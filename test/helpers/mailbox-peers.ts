/**
 * Peers for mailbox tests in one process: each a `Net` on libp2p's memory transport with
 * messaging and the mailbox service on top, built directly so a test gives any init option.
 *
 * - `World`: who belongs to which identity and which mailboxes each identity names, as every
 *   peer's fake identity directory answers it (the real one reads signed logs).
 * - `FakeAuthority`: the grants one peer holds, behaving as core/delegations.ts says (`held`
 *   verified now: expiry; `lapsed`; `grant:changed` on revocation and on expiry when checked).
 * - A peer can be stopped and started again on its key and datastore (its peer store persists
 *   there, so it redials peers it knew), which is how a device "comes back".
 */
import { randomBytes } from 'node:crypto'
import { MemoryDatastore } from 'datastore-core'
import type { DelegationAuthority, GrantChange, HeldGrant } from '../../src/core/delegations.ts'
import type { IdentityDirectory } from '../../src/core/identities.ts'
import { type ComponentLogger, type LogFields, silentLogger } from '../../src/core/logger.ts'
import { deviceVault } from '../../src/core/vault.ts'
import { createDeviceSigner, type DeviceSigner } from '../../src/identity/device-signer.ts'
import { type DeviceKey, generateDeviceKey } from '../../src/identity/keystore.ts'
import { createMailbox, type Mailbox, type MailboxInit } from '../../src/mailbox/index.ts'
import { createMessaging, type Messaging, type MessagingInit } from '../../src/messaging/index.ts'
import { createNet, type Net } from '../../src/net/index.ts'
import { defaultConfig } from '../../src/node/config.ts'
import { installTeardownGuard } from '../../src/testing/teardown-guard.ts'

/** Identities as every peer of a test knows them. */
export class World {
  readonly identities = new Map<string, { devices: string[]; mailboxes: string[] }>()

  /** Changes no peer knows yet: a peer's `refresh` of that identity makes them known (to all). */
  readonly #later = new Map<string, { mailboxes: string[] }>()
  /** Identities peers asked to refresh, in order. */
  readonly refreshed: string[] = []

  set(identity: string, value: { devices: string[]; mailboxes?: string[] }): void {
    this.identities.set(identity, { devices: value.devices, mailboxes: value.mailboxes ?? [] })
  }

  /** Mailboxes an identity named that reach peers only when one of them refreshes its log. */
  later(identity: string, value: { mailboxes: string[] }): void {
    this.#later.set(identity, value)
  }

  #refresh(identity: string): boolean {
    this.refreshed.push(identity)
    const update = this.#later.get(identity)
    const current = this.identities.get(identity)
    if (update === undefined || current === undefined) return false
    this.#later.delete(identity)
    this.identities.set(identity, { ...current, mailboxes: update.mailboxes })
    return true
  }

  directory(self: string, peerId: string, signer: DeviceSigner): IdentityDirectory {
    return {
      self: () => self,
      identityOf: (p) =>
        p === peerId && self !== '' ? self : [...this.identities].find(([, v]) => v.devices.includes(p))?.[0],
      devicesOf: (id) => this.identities.get(id)?.devices.slice(),
      mailboxesOf: (id) => this.identities.get(id)?.mailboxes.slice(),
      refresh: async (id) => this.#refresh(id),
      revocation: () => undefined,
      vault: deviceVault(signer),
      ownHeads: () => undefined,
      observeHeads: () => {},
    }
  }
}

/** The grants one peer holds, by subject identity (one per subject is enough for these tests). */
export class FakeAuthority
  implements Pick<DelegationAuthority, 'held' | 'lapsed' | 'provideUsage' | 'addEventListener' | 'removeEventListener'>
{
  /** What the mailbox reported with provideUsage, by command. */
  readonly usage = new Map<string, Parameters<DelegationAuthority['provideUsage']>[1]>()
  readonly #grants = new Map<string, HeldGrant & { revoked?: boolean }>()
  readonly #events = new EventTarget()
  #n = 0

  grant(subject: string, options: { quota?: number; expiresAt?: number } = {}): HeldGrant {
    const grant: HeldGrant = {
      cid: `bafyfakegrant${++this.#n}`,
      subject,
      command: '/msg/deposit',
      issuer: 'fake-issuer',
      expiresAt: options.expiresAt ?? Date.now() + 3_600_000,
      ...(options.quota === undefined ? {} : { quota: options.quota }),
    }
    this.#grants.set(subject, grant)
    this.#emit({ cid: grant.cid, subject, command: grant.command, state: 'active' })
    return grant
  }

  revoke(subject: string): void {
    const grant = this.#grants.get(subject)
    if (grant === undefined) return
    grant.revoked = true
    this.#emit({ cid: grant.cid, subject, command: grant.command, state: 'revoked', reason: 'revoked by its issuer' })
  }

  /** Let the grant's time run out now (the delegation service reports it at its next check). */
  expire(subject: string): void {
    const grant = this.#grants.get(subject)
    if (grant === undefined) return
    grant.expiresAt = Date.now() - 1
    this.#emit({ cid: grant.cid, subject, command: grant.command, state: 'expired' })
  }

  provideUsage(command: string, provider: Parameters<DelegationAuthority['provideUsage']>[1]): void {
    this.usage.set(command, provider)
  }

  async held(subject: string, command: string): Promise<HeldGrant | undefined> {
    const g = this.#grants.get(subject)
    if (g === undefined || g.revoked === true || g.expiresAt <= Date.now()) return undefined
    if (command !== g.command && !command.startsWith(`${g.command}/`)) return undefined
    const { revoked: _r, ...grant } = g
    return grant
  }

  async lapsed(subject: string, _command: string): Promise<GrantChange[]> {
    const g = this.#grants.get(subject)
    if (g === undefined) return []
    if (g.revoked === true) return [{ cid: g.cid, subject, command: g.command, state: 'revoked' }]
    if (g.expiresAt <= Date.now()) return [{ cid: g.cid, subject, command: g.command, state: 'expired' }]
    return []
  }

  addEventListener(type: 'grant:changed', listener: (evt: CustomEvent<GrantChange>) => void): void {
    this.#events.addEventListener(type, listener as (evt: Event) => void)
  }

  removeEventListener(type: 'grant:changed', listener: (evt: CustomEvent<GrantChange>) => void): void {
    this.#events.removeEventListener(type, listener as (evt: Event) => void)
  }

  #emit(change: GrantChange): void {
    this.#events.dispatchEvent(new CustomEvent('grant:changed', { detail: change }))
  }
}

export interface MailboxPeerOptions {
  /** The identity this peer is a device of ('' for none). */
  identity?: string
  key?: DeviceKey
  datastore?: MemoryDatastore
  messaging?: MessagingInit
  /** Mailbox init options; `false` for a peer with messaging only. */
  mailbox?: MailboxInit | false
  authority?: FakeAuthority
  /**
   * Peers this one is connected to before its services start: as if its peer store knew them
   * (a dial by peer ID alone finds no address on the memory transport, and holds up other dials
   * to that peer until it times out).
   */
  connectTo?: MailboxPeer[]
}

export interface MailboxPeer {
  key: DeviceKey
  peerId: string
  identity: string
  net: Net
  messaging: Messaging
  mailbox: Mailbox | undefined
  datastore: MemoryDatastore
  authority: FakeAuthority
  address: string
  /** The mailbox component's log lines. */
  logs: Array<{ message: string; fields?: LogFields }>
  running: boolean
}

export interface MailboxPeers {
  world: World
  /** A peer, started unless `started: false` (a device that is away). */
  add(options?: MailboxPeerOptions & { started?: boolean }): Promise<MailboxPeer>
  /** Start a stopped peer again on its key and datastore (same peer ID, same peer store). */
  start(peer: MailboxPeer, options?: { connectTo?: MailboxPeer[] }): Promise<MailboxPeer>
  stopPeer(peer: MailboxPeer): Promise<void>
  connect(from: MailboxPeer, to: MailboxPeer): Promise<void>
  stop(): Promise<void>
}

export function mailboxPeers(): MailboxPeers {
  installTeardownGuard()
  const prefix = randomBytes(4).toString('hex')
  const world = new World()
  const peers: MailboxPeer[] = []
  const options = new Map<MailboxPeer, MailboxPeerOptions>()
  const netConfig = defaultConfig()
  let n = 0

  const build = async (peer: MailboxPeer, o: MailboxPeerOptions): Promise<void> => {
    const signer = createDeviceSigner(peer.key)
    const logger: ComponentLogger = {
      forComponent: (name) => {
        const record = (message: string, fields?: LogFields) => {
          if (name === 'lateral:mailbox') peer.logs.push(fields === undefined ? { message } : { message, fields })
        }
        return { debug: record, info: record, warn: record, error: record }
      },
    }
    const net = createNet(
      {
        seed: peer.key.seed,
        listen: [peer.address === '' ? `/memory/${prefix}-${n++}` : (peer.address.split('/p2p/')[0] as string)],
        bootstrap: [],
        mdns: false,
        dhtMode: netConfig.dht.mode,
        encrypters: netConfig.encrypters,
        maxConnections: netConfig.connections.max,
        maxIncomingPendingConnections: netConfig.connections.maxIncomingPending,
        dialTimeoutMs: 2_000,
        autoDialTarget: 0,
        reconnectAtStart: 0,
        transport: 'memory',
        metrics: false,
      },
      { datastore: peer.datastore, logger: silentLogger },
    )
    await net.start()
    for (const other of o.connectTo ?? []) await net.connect(other.address)
    const identity = world.directory(peer.identity, peer.peerId, signer)
    const messaging = createMessaging(
      { dmOpenTimeoutMs: 2_000, retryMinMs: 60_000, retryMaxMs: 60_000, ...o.messaging },
      { net, datastore: peer.datastore, signer, keyAgreement: signer, logger, identity },
    )
    await messaging.start()
    const mailbox =
      o.mailbox === false
        ? undefined
        : createMailbox(o.mailbox ?? {}, {
            net,
            datastore: peer.datastore,
            logger,
            messaging,
            identity,
            delegation: peer.authority,
          })
    peer.net = net
    peer.messaging = messaging
    peer.mailbox = mailbox
    peer.address = net.addresses()[0] as string
    peer.running = true
    await mailbox?.start()
  }

  const stopPeer = async (peer: MailboxPeer) => {
    if (!peer.running) return
    peer.running = false
    await peer.mailbox?.stop()
    await peer.messaging.stop()
    await peer.net.stop()
  }

  return {
    world,
    async add(o = {}) {
      const key = o.key ?? generateDeviceKey()
      const peer: MailboxPeer = {
        key,
        peerId: createDeviceSigner(key).peerId,
        identity: o.identity ?? '',
        net: undefined as unknown as Net,
        messaging: undefined as unknown as Messaging,
        mailbox: undefined,
        datastore: o.datastore ?? new MemoryDatastore(),
        authority: o.authority ?? new FakeAuthority(),
        address: '',
        logs: [],
        running: false,
      }
      peers.push(peer)
      options.set(peer, o)
      if (o.started !== false) await build(peer, o)
      return peer
    },
    async start(peer, extra = {}) {
      if (!peer.running) await build(peer, { ...options.get(peer), ...extra })
      return peer
    },
    stopPeer,
    async connect(from, to) {
      await from.net.connect(to.address)
    },
    async stop() {
      await Promise.all(peers.map(stopPeer))
    },
  }
}
