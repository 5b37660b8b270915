/**
 * Peers for ledger tests in one process: each a `Net` on libp2p's memory transport, a content
 * service over in-memory blocks (so blocks really flow and are counted), and the ledger built
 * directly, so a test can give it any setting. Identities come from a shared world (who is
 * whose device), as the identity service would answer.
 */
import { randomBytes } from 'node:crypto'
import * as cbor from '@ipld/dag-cbor'
import { MemoryDatastore } from 'datastore-core'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { Content, type ContentInit } from '../../src/content/index.ts'
import { type ComponentLogger, type LogFields, silentLogger } from '../../src/core/logger.ts'
import { createDeviceSigner, type DeviceSigner } from '../../src/identity/device-signer.ts'
import { type DeviceKey, generateDeviceKey } from '../../src/identity/keystore.ts'
import { Ledger, type LedgerConfig, type LedgerIdentity } from '../../src/ledger/index.ts'
import { createNet, type Net } from '../../src/net/index.ts'
import { defaultConfig } from '../../src/node/config.ts'
import { MemoryBlocks } from '../../src/store/blockstore.ts'
import { installTeardownGuard } from '../../src/testing/teardown-guard.ts'
import { waitFor } from '../../src/testing/wait.ts'

/** Who is whose device. */
export class IdentityWorld {
  readonly #devices = new Map<string, string[]>()

  static async newId(): Promise<string> {
    return CID.create(1, cbor.code, await sha256.digest(randomBytes(32))).toString()
  }

  add(identity: string, peerId: string): void {
    this.#devices.set(identity, [...(this.#devices.get(identity) ?? []), peerId])
  }

  identityOf(peerId: string): string | undefined {
    for (const [id, devices] of this.#devices) if (devices.includes(peerId)) return id
    return undefined
  }

  directory(self: () => string): LedgerIdentity {
    return {
      self,
      identityOf: (peer) => this.identityOf(peer),
      devicesOf: (id) => this.#devices.get(id),
    }
  }
}

export interface LedgerPeer {
  net: Net
  signer: DeviceSigner
  content: Content
  ledger: Ledger
  blocks: MemoryBlocks
  datastore: MemoryDatastore
  identity: string | undefined
  address: string
  logs: Array<{ message: string; fields?: LogFields }>
}

export interface PeerOptions {
  ledger?: Partial<LedgerConfig>
  content?: Partial<ContentInit>
  /** An identity this peer is a device of (none by default). */
  identity?: string
  /** Build no ledger: the peer is a raw net + content peer. */
  noLedger?: boolean
  /** Use this datastore (e.g. with a chain written beforehand)... */
  datastore?: MemoryDatastore
  /** ...and this device key (the chain's owner). */
  key?: DeviceKey
}

export interface LedgerPeers {
  world: IdentityWorld
  add(options?: PeerOptions): Promise<LedgerPeer>
  connect(from: LedgerPeer, to: LedgerPeer): Promise<void>
  stop(): Promise<void>
}

export function ledgerPeers(): LedgerPeers {
  installTeardownGuard()
  const prefix = randomBytes(4).toString('hex')
  const world = new IdentityWorld()
  const peers: LedgerPeer[] = []
  const defaults = defaultConfig()
  let n = 0
  return {
    world,
    async add(options = {}) {
      const key = options.key ?? generateDeviceKey()
      const signer = createDeviceSigner(key)
      const datastore = options.datastore ?? new MemoryDatastore()
      const blocks = new MemoryBlocks()
      const logs: LedgerPeer['logs'] = []
      const logger: ComponentLogger = {
        forComponent: (name) => {
          const record = (message: string, fields?: LogFields) => {
            if (name === 'lateral:ledger') logs.push(fields === undefined ? { message } : { message, fields })
          }
          return { debug: record, info: record, warn: record, error: record }
        },
      }
      const net = createNet(
        {
          seed: key.seed,
          listen: [`/memory/${prefix}-${n++}`],
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
      if (options.identity !== undefined) world.add(options.identity, net.peerId)
      const content = new Content(
        { blockstore: blocks, datastore, net, logger: silentLogger },
        { providerTimeoutMs: 10_000, ...options.content },
      )
      await content.start()
      const ledger = new Ledger(
        {
          net,
          datastore,
          signer,
          logger,
          identity: world.directory(() => options.identity ?? ''),
          content,
          // Peers of these tests keep no storage and hold no mail.
          storage: { setContribution: () => {} },
          mailbox: { setContribution: () => {} },
        },
        options.ledger ?? {},
      )
      if (options.noLedger !== true) await ledger.start()
      const peer: LedgerPeer = {
        net,
        signer,
        content,
        ledger,
        blocks,
        datastore,
        identity: options.identity,
        address: net.addresses()[0] as string,
        logs,
      }
      peers.push(peer)
      return peer
    },
    async connect(from, to) {
      await from.net.connect(to.address)
      // The dialled side sees the connection a moment later; both must, for either to open streams.
      await waitFor(async () => (await to.net.connections()).some((c) => c.peerId === from.net.peerId), {
        what: 'the connection on both sides',
      })
    },
    async stop() {
      await Promise.all(
        peers.map(async (p) => {
          await p.ledger.stop()
          await p.content.stop()
          await p.net.stop()
        }),
      )
    },
  }
}

/** Random bytes as a file of `size` bytes (fresh content each time). */
export function randomFile(size: number): Uint8Array {
  return new Uint8Array(randomBytes(size))
}
