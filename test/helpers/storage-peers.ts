/**
 * Peers for storage tests in one process: each a `Net` on libp2p's memory transport, a content
 * service over in-memory blocks, and the storage service built from `createStorage` directly, with
 * a FAKE delegation authority (below) that behaves as src/core/delegations.ts says: grants with a
 * quota and an expiry, revocations, `grant:changed` events, invocations that expire, are refused
 * when replayed, and must come from a current device of their subject. Its invocations are not
 * signed: in one process the world below is the trusted record of who is whose device.
 */
import { randomBytes } from 'node:crypto'
import * as cbor from '@ipld/dag-cbor'
import { MemoryDatastore } from 'datastore-core'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { Content } from '../../src/content/index.ts'
import type {
  DelegationAuthority,
  GrantChange,
  HeldGrant,
  UsageProvider,
  VerifiedInvocation,
} from '../../src/core/delegations.ts'
import { DelegationError } from '../../src/core/errors.ts'
import { type ComponentLogger, type LogFields, silentLogger } from '../../src/core/logger.ts'
import { generateDeviceKey } from '../../src/identity/keystore.ts'
import { createNet, type Net } from '../../src/net/index.ts'
import { defaultConfig } from '../../src/node/config.ts'
import { createStorage, type Storage, type StorageInit } from '../../src/storage/index.ts'
import { MemoryBlocks } from '../../src/store/blockstore.ts'
import { installTeardownGuard } from '../../src/testing/teardown-guard.ts'

/** Who is whose device: identities by ID, the devices of each. */
export class World {
  readonly #devices = new Map<string, string[]>()

  /** A new identity ID (a CIDv1 of DAG-CBOR, as real ones are). */
  static async identityId(): Promise<string> {
    return CID.create(1, cbor.code, await sha256.digest(randomBytes(32))).toString()
  }

  addDevice(identity: string, peerId: string): void {
    this.#devices.set(identity, [...(this.#devices.get(identity) ?? []), peerId])
  }

  removeDevice(identity: string, peerId: string): void {
    this.#devices.set(
      identity,
      (this.#devices.get(identity) ?? []).filter((d) => d !== peerId),
    )
  }

  devicesOf(identity: string): string[] | undefined {
    return this.#devices.get(identity)
  }
}

interface FakeGrant {
  cid: string
  subject: string
  command: string
  quota?: number
  expiresAt: number
  revoked?: string
}

/** A delegation authority for one node, over the shared world. */
export class FakeAuthority implements DelegationAuthority {
  readonly #world: World
  readonly #self: { peerId: string; identity: string }
  readonly #grants = new Map<string, FakeGrant>()
  readonly #seen = new Set<string>()
  readonly #events = new EventTarget()
  /** What services reported with provideUsage, by command. */
  readonly usage = new Map<string, UsageProvider>()
  /** Invocation lifetime, ms. */
  invocationTtlMs = 60_000
  /** Calls of `held`, to see that a refused request cost no grant lookup where it should not. */
  heldCalls = 0

  constructor(world: World, self: { peerId: string; identity: string }) {
    this.#world = world
    this.#self = self
  }

  /** Record a grant from `subject` to this node (as if received and verified). */
  give(subject: string, options: { quota?: number; expiresAt?: number; command?: string } = {}): string {
    const cid = `grant-${randomBytes(6).toString('hex')}`
    const grant: FakeGrant = {
      cid,
      subject,
      command: options.command ?? '/store/put',
      expiresAt: options.expiresAt ?? Date.now() + 3_600_000,
      ...(options.quota === undefined ? {} : { quota: options.quota }),
    }
    this.#grants.set(cid, grant)
    this.#emit({ cid, subject, command: grant.command, state: 'active' })
    return cid
  }

  revoke(cid: string, reason = 'revoked by its issuer'): void {
    const grant = this.#grants.get(cid)
    if (grant === undefined) throw new Error(`no grant ${cid}`)
    grant.revoked = reason
    this.#emit({ cid, subject: grant.subject, command: grant.command, state: 'revoked', reason })
  }

  /** Make a grant expire now (the delegation service would say so at its next sweep). */
  expire(cid: string, at = Date.now() - 1): void {
    const grant = this.#grants.get(cid)
    if (grant === undefined) throw new Error(`no grant ${cid}`)
    grant.expiresAt = at
    this.#emit({ cid, subject: grant.subject, command: grant.command, state: 'expired' })
  }

  provideUsage(command: string, provider: UsageProvider): void {
    this.usage.set(command, provider)
  }

  async held(subject: string, command: string): Promise<HeldGrant | undefined> {
    this.heldCalls++
    let best: HeldGrant | undefined
    for (const g of this.#grants.values()) {
      if (g.subject !== subject || !covers(g.command, command) || g.revoked !== undefined) continue
      if (g.expiresAt <= Date.now()) continue
      const held: HeldGrant = {
        cid: g.cid,
        subject,
        command: g.command,
        issuer: 'fake',
        expiresAt: g.expiresAt,
        ...(g.quota === undefined ? {} : { quota: g.quota }),
      }
      const q = (h: HeldGrant) => h.quota ?? Number.POSITIVE_INFINITY
      if (best === undefined || q(held) > q(best) || (q(held) === q(best) && held.expiresAt > best.expiresAt))
        best = held
    }
    return best
  }

  async lapsed(subject: string, command: string): Promise<GrantChange[]> {
    const out: GrantChange[] = []
    for (const g of this.#grants.values()) {
      if (g.subject !== subject || !covers(g.command, command)) continue
      if (g.revoked !== undefined)
        out.push({ cid: g.cid, subject, command: g.command, state: 'revoked', reason: g.revoked })
      else if (g.expiresAt <= Date.now()) out.push({ cid: g.cid, subject, command: g.command, state: 'expired' })
    }
    return out
  }

  async invoke(audience: string, command: string, args: Record<string, unknown>): Promise<Uint8Array> {
    return cbor.encode({
      iss: this.#self.peerId,
      sub: this.#self.identity,
      aud: audience,
      cmd: command,
      args,
      exp: Date.now() + this.invocationTtlMs,
      nonce: randomBytes(16),
    })
  }

  async verifyInvocation(bytes: Uint8Array, command: string): Promise<VerifiedInvocation> {
    const inv = cbor.decode(bytes) as {
      iss: string
      sub: string
      aud: string
      cmd: string
      args: Record<string, unknown>
      exp: number
    }
    const cid = randomlessId(bytes)
    if (inv.aud !== this.#self.peerId) throw new DelegationError('not addressed to this node', 'InvalidAudience')
    if (inv.exp <= Date.now()) throw new DelegationError('invocation expired', 'Expired')
    if (!covers(command, inv.cmd)) throw new DelegationError(`asks for ${inv.cmd}, not ${command}`, 'InvalidClaim')
    if (!(this.#world.devicesOf(inv.sub) ?? []).includes(inv.iss)) {
      throw new DelegationError(`${inv.iss} is not a current device of ${inv.sub}`, 'DeviceRemoved')
    }
    if (this.#seen.has(cid)) throw new DelegationError('invocation seen before', 'Replayed')
    this.#seen.add(cid)
    return { cid, issuer: inv.iss, subject: inv.sub, command: inv.cmd, args: inv.args, expiresAt: inv.exp }
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

/** `parent` covers `command` when equal or an ancestor (`/store` covers `/store/put`). */
function covers(parent: string, command: string): boolean {
  return parent === '/' || parent === command || command.startsWith(`${parent}/`)
}

function randomlessId(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64')
}

export interface StoragePeer {
  net: Net
  identity: string
  storage: Storage
  content: Content
  blocks: MemoryBlocks
  datastore: MemoryDatastore
  authority: FakeAuthority
  address: string
  logs: Array<{ message: string; fields?: LogFields }>
  /** Start a new storage service over the same stores (a restart of the service). */
  restart(init?: StorageInit): Promise<void>
}

export interface StoragePeers {
  world: World
  /** A node with its own device key; `identity` names the identity it is a device of (a new one if absent). */
  add(options?: { identity?: string; storage?: StorageInit }): Promise<StoragePeer>
  connect(from: StoragePeer, to: StoragePeer): Promise<void>
  stop(): Promise<void>
}

export function storagePeers(): StoragePeers {
  installTeardownGuard()
  const prefix = randomBytes(4).toString('hex')
  const world = new World()
  const peers: StoragePeer[] = []
  const defaults = defaultConfig()
  return {
    world,
    async add(options = {}) {
      const key = generateDeviceKey()
      const datastore = new MemoryDatastore()
      const blocks = new MemoryBlocks()
      const logs: StoragePeer['logs'] = []
      const logger: ComponentLogger = {
        forComponent: (name) => {
          const record = (message: string, fields?: LogFields) => {
            if (name === 'lateral:storage') logs.push(fields === undefined ? { message } : { message, fields })
          }
          return { debug: record, info: record, warn: record, error: record }
        },
      }
      const net = createNet(
        {
          seed: key.seed,
          listen: [`/memory/${prefix}-${peers.length}`],
          bootstrap: [],
          mdns: false,
          dhtMode: defaults.dht.mode,
          encrypters: defaults.encrypters,
          maxConnections: defaults.connections.max,
          maxIncomingPendingConnections: defaults.connections.maxIncomingPending,
          dialTimeoutMs: defaults.connections.dialTimeoutMs,
          autoDialTarget: 0,
          transport: 'memory',
          metrics: false,
        },
        { datastore, logger: silentLogger },
      )
      await net.start()
      const identity = options.identity ?? (await World.identityId())
      world.addDevice(identity, net.peerId)
      const content = new Content(
        { blockstore: blocks, datastore, net, logger: silentLogger },
        { providerTimeoutMs: 5_000 },
      )
      await content.start()
      const authority = new FakeAuthority(world, { peerId: net.peerId, identity })
      const build = (init: StorageInit) =>
        createStorage(init, {
          net,
          datastore,
          blockstore: blocks,
          logger,
          identity: { self: () => identity, devicesOf: (id) => world.devicesOf(id) },
          delegation: authority,
          content,
        })
      const peer: StoragePeer = {
        net,
        identity,
        storage: build(options.storage ?? {}),
        content,
        blocks,
        datastore,
        authority,
        address: net.addresses()[0] as string,
        logs,
        async restart(init = options.storage ?? {}) {
          await peer.storage.stop()
          peer.storage = build(init)
          await peer.storage.start()
        },
      }
      await peer.storage.start()
      peers.push(peer)
      return peer
    },
    async connect(from, to) {
      await from.net.connect(to.address)
    },
    async stop() {
      await Promise.all(
        peers.map(async (p) => {
          await p.storage.stop()
          await p.content.stop()
          await p.net.stop()
        }),
      )
    },
  }
}
