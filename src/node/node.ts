/**
 * `createNode()`: composes the layers in order (store, identity, net) and stops them in reverse.
 *
 * @example
 * ```ts
 * import { createNode } from 'lateral'
 * const node = await createNode({ home: '/tmp/alice', passphrase: 'correct horse' })
 * console.log(node.peerId, node.net.addresses())
 * await node.stop()
 * ```
 */
import { mkdir } from 'node:fs/promises'
import { MemoryDatastore } from 'datastore-core'
import { AGENT_VERSION } from '../core/constants.ts'
import { homePaths } from '../core/home.ts'
import { type ComponentLogger, silentLogger } from '../core/logger.ts'
import { createDeviceSigner } from '../identity/index.ts'
import { type DeviceKey, loadKeystore } from '../identity/keystore.ts'
import {
  createNet,
  type DhtStatus,
  type MuxerTuning,
  type NatKind,
  type Net,
  type Reachability,
  type SimFabric,
  type TrafficTotals,
} from '../net/index.ts'
import { type Datastore, openDatastore } from '../store/datastore.ts'
import { type Blocks, FsBlockstore, MemoryBlocks } from '../store/index.ts'
import { type ConfigOverrides, defaultConfig, type LateralConfig, loadConfig, mergeConfig } from './config.ts'
import { type StartedServices, startServices } from './lifecycle.ts'
import { type NodeComponents, SERVICES, type ServiceInstances } from './registry.ts'

export interface NodeInit {
  /** The node's home. Without one the node keeps everything in memory (tests, embedding). */
  home?: string
  /** Passphrase of the home's keystore (when it has one). */
  passphrase?: string
  /** Use this device key instead of the home's keystore. Required without a home. */
  key?: DeviceKey
  /** Settings over `config.json` (command-line flags). */
  config?: ConfigOverrides
  logger?: ComponentLogger
  /** `memory`: libp2p's in-process transport (tests). */
  transport?: 'default' | 'memory'
  /** With `transport: 'memory'`: run over this simulated network (testing/sim). */
  fabric?: SimFabric
  /** Use this datastore instead of the home's LevelDB (tests). */
  datastore?: Datastore
  /** Yamux tuning, for the stack benchmark. */
  muxer?: MuxerTuning
  /** Messaging settings over config.json (tests shorten the outbox retry backoff). */
  messaging?: ConfigOverrides['messaging']
}

export interface NodeStatus {
  peerId: string
  agentVersion: string
  uptimeMs: number
  startedAt: number
  connections: number
  addresses: string[]
  /** AutoNAT's and UPnP's confirmations and relay reservations (see net/reachability.ts). */
  reachability: Reachability
  reachabilityReasons: string[]
  nat: NatKind
  dht: DhtStatus
  /** Bytes on the wire since start; null when metrics are off. */
  traffic: TrafficTotals | null
  dataDir: string | null
}

/** A started node: its layers, and one property per registered service (`content`, `messaging`, ...). */
export type LateralNode = NodeBase & Readonly<ServiceInstances>

export interface NodeBase {
  readonly peerId: string
  readonly home: string | undefined
  readonly config: LateralConfig
  readonly net: Net
  readonly startedAt: number
  status(): Promise<NodeStatus>
  /** Stop every layer in reverse order; idempotent. */
  stop(): Promise<void>
}

function reachabilityOf(net: Net): Pick<NodeStatus, 'reachability' | 'reachabilityReasons' | 'nat'> {
  const r = net.reachability()
  return { reachability: r.reachability, reachabilityReasons: r.reasons, nat: r.nat.kind }
}

export async function createNode(init: NodeInit = {}): Promise<LateralNode> {
  const logger = init.logger ?? silentLogger
  const log = logger.forComponent('lateral:node')
  const paths = init.home === undefined ? undefined : homePaths(init.home)
  const fileConfig = paths === undefined ? defaultConfig() : await loadConfig(paths.config)
  const config = mergeConfig(fileConfig, {
    ...init.config,
    messaging: { ...init.config?.messaging, ...init.messaging },
  })

  let key = init.key
  if (key === undefined) {
    if (paths === undefined) throw new TypeError('createNode needs a home or a key')
    const loaded = await loadKeystore(paths.home, init.passphrase)
    if (loaded.looseMode) log.warn('keystore file is readable by other users; chmod 600 it', { path: paths.keystore })
    key = loaded.key
  }

  if (paths !== undefined) await mkdir(paths.home, { recursive: true, mode: 0o700 })
  const store =
    init.datastore !== undefined
      ? { datastore: init.datastore, close: async () => {} }
      : paths !== undefined
        ? await openDatastore(paths.datastore)
        : { datastore: new MemoryDatastore(), close: async () => {} }

  const net = createNet(
    {
      seed: key.seed,
      listen: config.listen,
      bootstrap: config.bootstrap,
      mdns: config.mdns,
      dhtMode: config.dht.mode,
      dhtRpcMinTimeoutMs: config.dht.rpcMinTimeoutMs,
      dhtRpcMaxTimeoutMs: config.dht.rpcMaxTimeoutMs,
      encrypters: config.encrypters,
      maxConnections: config.connections.max,
      maxIncomingPendingConnections: config.connections.maxIncomingPending,
      dialTimeoutMs: config.connections.dialTimeoutMs,
      autoDialTarget: config.connections.autoDialTarget,
      reconnectAtStart: config.connections.reconnectAtStart,
      redialIntervalMs: config.connections.redialIntervalMs,
      redialForMs: config.connections.redialForMs,
      mdnsIntervalMs: config.mdnsIntervalMs,
      transport: init.transport ?? 'default',
      metrics: config.metrics,
      pubsubMaxMessageBytes: config.messaging.topicMaxBytes,
      ...(init.muxer === undefined ? {} : { muxer: init.muxer }),
      ...(init.fabric === undefined ? {} : { fabric: init.fabric }),
      announce: config.announce,
      autonat: config.autonat,
      upnp: config.upnp,
      punch: { enabled: config.punch },
      relayReservations: config.relay.reservations,
      relayServer: { ...config.relay, enabled: config.relay.server },
      inboundConnectionsPerHost: config.connections.perHostPerSecond,
      guard: {
        banPenalty: config.connections.banPenalty,
        banMs: config.connections.banMs,
        hangUpHoldMs: config.connections.hangUpHoldMs,
        streamBurst: config.connections.streamBurst,
        streamsPerSecond: config.connections.streamsPerSecond,
        maxConnectionsPerPeer: config.connections.maxPerPeer,
      },
    },
    { datastore: store.datastore, logger },
  )
  let blockstore: Blocks
  if (paths === undefined) {
    blockstore = new MemoryBlocks()
  } else {
    const fs = new FsBlockstore(paths.blocks, {
      directWrites: config.content.directWrites,
      hashThreads: config.content.hashThreads,
      onHashWorkerDeath: ({ error, exitCode, ranMs, restartInMs }) =>
        log.warn('a block hash worker died; blocks are hashed on the event loop until it is replaced', {
          ...(error === undefined ? {} : { error: error.message }),
          ...(exitCode === undefined ? {} : { exitCode }),
          ranMs,
          restartInMs,
        }),
    })
    await fs.open()
    blockstore = fs
  }
  const signer = createDeviceSigner(key)
  const components: NodeComponents = {
    net,
    datastore: store.datastore,
    blockstore,
    signer,
    keyAgreement: signer,
    logger,
  }
  let services: StartedServices
  try {
    await net.start()
    services = await startServices(SERVICES, components, config, log)
  } catch (err) {
    await net.stop().catch(() => {})
    await store.close()
    throw err
  }
  const startedAt = Date.now()
  let stopping: Promise<void> | undefined

  return {
    peerId: net.peerId,
    home: paths?.home,
    config,
    net,
    ...(services.instances as ServiceInstances),
    startedAt,
    async status() {
      return {
        peerId: net.peerId,
        agentVersion: AGENT_VERSION,
        uptimeMs: Date.now() - startedAt,
        startedAt,
        connections: (await net.connections()).length,
        addresses: net.addresses(),
        ...reachabilityOf(net),
        dht: net.dht(),
        traffic: net.traffic() ?? null,
        dataDir: paths?.home ?? null,
      }
    },
    stop() {
      stopping ??= (async () => {
        try {
          await services.stop()
          await net.stop()
        } finally {
          // Blocks written since the last checkpoint made durable (the next start re-checks none),
          // and the store's hash workers and sync helper ended.
          await blockstore.close().catch((err: Error) => log.warn('blocks not synced at stop', { error: err.message }))
          await store.close()
          log.info('node stopped')
        }
      })()
      return stopping
    },
  }
}
