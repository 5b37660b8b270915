/**
 * Peers for messaging tests in one process: each a `Net` on libp2p's memory transport with,
 * optionally, the messaging service on top, built from `createMessaging` directly so a test can
 * give it any init option (deadlines and caps that config.json may not expose) and a logger.
 * A peer without messaging is a "raw" peer: the test speaks `/lateral/dm/1.0.0` by hand.
 */
import { randomBytes } from 'node:crypto'
import { MemoryDatastore } from 'datastore-core'
import { deviceOnly, type IdentityDirectory } from '../../src/core/identities.ts'
import { type ComponentLogger, type LogFields, silentLogger } from '../../src/core/logger.ts'
import { createDeviceSigner, type DeviceSigner } from '../../src/identity/device-signer.ts'
import { generateDeviceKey } from '../../src/identity/keystore.ts'
import { createMessaging, type Messaging, type MessagingInit } from '../../src/messaging/index.ts'
import { createNet, type Net } from '../../src/net/index.ts'
import { defaultConfig } from '../../src/node/config.ts'
import { installTeardownGuard } from '../../src/testing/teardown-guard.ts'

export interface MessagingPeer {
  net: Net
  /** Undefined for a raw peer. */
  messaging: Messaging | undefined
  datastore: MemoryDatastore
  signer: DeviceSigner
  /** Log lines of the messaging component (message and fields), as they are written. */
  logs: Array<{ message: string; fields?: LogFields }>
  address: string
}

export interface PeerOptions {
  /** Messaging init options; `false` for a raw peer without messaging. */
  messaging?: MessagingInit | false
  /** What the peer knows of identities (default: none). */
  identities?: IdentityDirectory
}

export interface MessagingPeers {
  add(options?: PeerOptions): Promise<MessagingPeer>
  /** `from` dials `to`. */
  connect(from: MessagingPeer, to: MessagingPeer): Promise<void>
  stop(): Promise<void>
}

export function messagingPeers(): MessagingPeers {
  installTeardownGuard()
  const prefix = randomBytes(4).toString('hex')
  const peers: MessagingPeer[] = []
  const net = defaultConfig()
  return {
    async add(options = {}) {
      const key = generateDeviceKey()
      const signer = createDeviceSigner(key)
      const datastore = new MemoryDatastore()
      const logs: MessagingPeer['logs'] = []
      const logger: ComponentLogger = {
        forComponent: (name) => {
          const record = (message: string, fields?: LogFields) => {
            if (name === 'lateral:messaging') logs.push(fields === undefined ? { message } : { message, fields })
          }
          return { debug: record, info: record, warn: record, error: record }
        },
      }
      const peerNet = createNet(
        {
          seed: key.seed,
          listen: [`/memory/${prefix}-${peers.length}`],
          bootstrap: [],
          mdns: false,
          dhtMode: net.dht.mode,
          encrypters: net.encrypters,
          maxConnections: net.connections.max,
          maxIncomingPendingConnections: net.connections.maxIncomingPending,
          dialTimeoutMs: net.connections.dialTimeoutMs,
          autoDialTarget: 0,
          transport: 'memory',
          metrics: false,
        },
        { datastore, logger: silentLogger },
      )
      await peerNet.start()
      const messaging =
        options.messaging === false
          ? undefined
          : createMessaging(options.messaging ?? {}, {
              net: peerNet,
              datastore,
              signer,
              keyAgreement: signer,
              logger,
              identity: options.identities ?? deviceOnly(signer),
            })
      await messaging?.start()
      const peer: MessagingPeer = {
        net: peerNet,
        messaging,
        datastore,
        signer,
        logs,
        address: peerNet.addresses()[0] as string,
      }
      peers.push(peer)
      return peer
    },
    async connect(from, to) {
      await from.net.connect(to.address)
    },
    async stop() {
      await Promise.all(
        peers.map(async (p) => {
          await p.messaging?.stop()
          await p.net.stop()
        }),
      )
    },
  }
}
