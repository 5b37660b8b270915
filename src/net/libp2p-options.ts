/** Translate Lateral's NetInit into createLibp2p options. The only place libp2p is configured. */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import { type Identify, type IdentifyPush, identify, identifyPush } from '@libp2p/identify'
import type { ComponentLogger, Logger, PrivateKey } from '@libp2p/interface'
import { type KadDHT, kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { mdns } from '@libp2p/mdns'
import { memory } from '@libp2p/memory'
import { type Ping, ping } from '@libp2p/ping'
import { plaintext } from '@libp2p/plaintext'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import type { Datastore } from 'interface-datastore'
import type { Libp2pOptions, ServiceFactoryMap } from 'libp2p'
import type { Registry } from 'prom-client'
import {
  AGENT_NAME,
  DEFAULT_DHT_RPC_MAX_TIMEOUT_MS,
  DEFAULT_DHT_RPC_MIN_TIMEOUT_MS,
  DEFAULT_INBOUND_CONNECTIONS_PER_HOST,
  DEFAULT_MDNS_INTERVAL_MS,
  DHT_PROTOCOL,
  VERSION,
  YAMUX_INITIAL_STREAM_WINDOW,
  YAMUX_MAX_INBOUND_STREAMS,
  YAMUX_MAX_MESSAGE_SIZE,
  YAMUX_MAX_STREAM_WINDOW,
} from '../core/constants.ts'
import { ConfigError } from '../core/errors.ts'
import { type LateTopologyComponents, replayConnectedPeers, type TopologyReplay } from './late-topologies.ts'
import {
  type MappingComponents,
  type NatServices,
  natServices,
  relayTransport,
  verifyNewMappings,
} from './nat-services.ts'
import { nativeTls } from './native-tls.ts'
import { ignoreRelayedObservations, type ObservedAddressComponents } from './observed.ts'
import type { PeerGuard } from './peer-guard.ts'
import { pacedRandomWalk, type RandomWalkComponents } from './random-walk-pace.ts'
import { simTransport } from './sim-transport.ts'
import type { Traffic } from './traffic.ts'
import type { NetInit } from './types.ts'

/** mDNS service name: Lateral nodes answer each other, not every libp2p app on the LAN. */
export const MDNS_SERVICE_TAG = '_lateral-discovery._udp.local'

export type Services = {
  identify: Identify
  identifyPush: IdentifyPush
  ping: Ping
  dht: KadDHT
  /** Absent only in simulations that leave gossipsub out (NetInit.lean). */
  pubsub: GossipSub
  eventHooks: TopologyReplay
} & NatServices

/** Gossipsub score thresholds (docs/protocols/topics.md explains them). */
export const SCORE_THRESHOLDS = { gossipThreshold: -10, publishThreshold: -50, graylistThreshold: -80 }

function buildServices(init: NetInit, guard: PeerGuard): Omit<ServiceFactoryMap<Services>, 'eventHooks'> {
  return {
    identify: identify(),
    // Tell connected peers when our addresses or protocols change. Without it a peer keeps what
    // the first identify said: the bootstrap peer, dialled at start before our listeners and
    // services were up, kept us with no address and no Lateral protocols, left us out of its
    // DHT routing table, and never introduced us to anyone (2 daemons in 3 stayed unmet).
    identifyPush: identifyPush(),
    ...natServices(init),
    // The connection monitor pings too: leave room for a user's ping beside it.
    ping: ping({ maxOutboundStreams: 4, maxInboundStreams: 4 }),
    dht: kadDHT({
      protocol: DHT_PROTOCOL,
      clientMode: init.dhtMode === 'client',
      // Keep private and loopback addresses: LANs and test networks are first-class here.
      peerInfoMapper: passthroughMapper,
      logPrefix: 'lateral:dht',
      datastorePrefix: '/dht',
      metricsPrefix: 'lateral_dht',
      // A dead peer holds one of a lookup's alpha slots until this runs out (docs/resilience.md).
      networkDialTimeout: dhtRpcTimeouts(init),
    }),
    ...(init.lean?.pubsub === false ? {} : { pubsub: pubsubService(init, guard) }),
  } as Omit<ServiceFactoryMap<Services>, 'eventHooks'>
}

function pubsubService(init: NetInit, guard: PeerGuard) {
  return gossipsub({
    allowPublishToZeroTopicPeers: true,
    emitSelf: false,
    // Bound one RPC frame before gossipsub decodes it: a few maximal messages plus control data.
    maxInboundDataLength: Math.max(1024 * 1024, 4 * (init.pubsubMaxMessageBytes ?? 64 * 1024)),
    scoreParams: {
      // Every invalid message costs its forwarder 1 point (decaying); weight 10 puts one
      // offence below 0 (pruned from meshes), 5 below the publish threshold, 8 graylisted.
      appSpecificScore: (peerId: string) => -guard.penalty(peerId),
      appSpecificWeight: 10,
      // Many honest peers share one address on a LAN or behind NAT: no colocation penalty.
      IPColocationFactorWeight: 0,
    },
    scoreThresholds: SCORE_THRESHOLDS,
  })
}

/** A logger that writes nothing and costs nothing to make (NetInit.lean.debugLoggers false). */
function silentLibp2pLogger(): ComponentLogger {
  const log = Object.assign(() => {}, { error: () => {}, trace: () => {}, enabled: false }) as unknown as Logger
  log.newScope = () => log
  return { forComponent: () => log }
}

function encrypter(name: NetInit['encrypters'][number], init: NetInit) {
  if (name === 'tls') return nativeTls()
  if (name === 'noise') return noise()
  // libp2p's test encrypter: identities are exchanged, nothing is encrypted. Simulations only.
  if (init.transport !== 'memory' || init.fabric === undefined) {
    throw new TypeError('the plaintext encrypter is for the sim transport only')
  }
  return plaintext()
}

/**
 * kad-dht's adaptive request timeout bounds (`networkDialTimeout`) from the settings; a maximum
 * below the minimum is a ConfigError naming both settings.
 */
export function dhtRpcTimeouts(init: Pick<NetInit, 'dhtRpcMinTimeoutMs' | 'dhtRpcMaxTimeoutMs'>): {
  minTimeout: number
  maxTimeout: number
} {
  const minTimeout = init.dhtRpcMinTimeoutMs ?? DEFAULT_DHT_RPC_MIN_TIMEOUT_MS
  const maxTimeout = init.dhtRpcMaxTimeoutMs ?? DEFAULT_DHT_RPC_MAX_TIMEOUT_MS
  if (maxTimeout < minTimeout) {
    throw new ConfigError(`dht.rpcMaxTimeoutMs (${maxTimeout}) must be at least dht.rpcMinTimeoutMs (${minTimeout})`)
  }
  return { minTimeout, maxTimeout }
}

export function buildLibp2pOptions(
  init: NetInit,
  privateKey: PrivateKey,
  datastore: Datastore,
  listen: string[],
  metrics: { registry: Registry; traffic: Traffic } | undefined,
  guard: PeerGuard,
  onEvents: (events: EventTarget) => void = () => {},
): Libp2pOptions<Services> {
  const memoryTransport = init.transport === 'memory'
  const encrypters = init.encrypters.map((name) => encrypter(name, init))
  const peerDiscovery = []
  if (init.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: init.bootstrap, timeout: 0 }))
  if (init.mdns && !memoryTransport) {
    peerDiscovery.push(
      mdns({ interval: init.mdnsIntervalMs ?? DEFAULT_MDNS_INTERVAL_MS, serviceTag: MDNS_SERVICE_TAG }),
    )
  }
  return {
    privateKey,
    datastore,
    nodeInfo: { name: AGENT_NAME, version: VERSION, userAgent: `${AGENT_NAME}/${VERSION}` },
    ...(init.lean?.debugLoggers === false ? { logger: silentLibp2pLogger() } : {}),
    ...(init.lean?.connectionMonitor === false ? { connectionMonitor: { enabled: false } } : {}),
    addresses: {
      listen,
      ...(init.announce === undefined || init.announce.length === 0 ? {} : { appendAnnounce: init.announce }),
    },
    // The relay transport dials `/p2p-circuit` addresses and takes relayed connections; it
    // reserves nothing by itself (relay-picker.ts asks relays once some are known).
    transports: memoryTransport
      ? [init.fabric === undefined ? memory() : simTransport(init.fabric), relayTransport()]
      : [tcp(), webSockets(), relayTransport()],
    connectionEncrypters: encrypters,
    streamMuxers: [
      yamux({
        maxMessageSize: init.muxer?.maxMessageSize ?? YAMUX_MAX_MESSAGE_SIZE,
        maxInboundStreams: YAMUX_MAX_INBOUND_STREAMS,
        streamOptions: {
          initialStreamWindowSize: init.muxer?.initialStreamWindowSize ?? YAMUX_INITIAL_STREAM_WINDOW,
          maxStreamWindowSize: YAMUX_MAX_STREAM_WINDOW,
        },
      }),
    ],
    peerDiscovery,
    connectionManager: {
      maxConnections: init.maxConnections,
      maxIncomingPendingConnections: init.maxIncomingPendingConnections,
      dialTimeout: init.dialTimeoutMs,
      inboundConnectionThreshold: init.inboundConnectionsPerHost ?? DEFAULT_INBOUND_CONNECTIONS_PER_HOST,
    },
    // A banned peer (peer-guard.ts) is refused both ways until its ban expires: checked once the
    // handshake names the peer, and again once the muxer is negotiated (a ban that lands while a
    // connection is mid-upgrade). A peer held after a hang-up is not dialled; when it dials in
    // it is let in to be told goodbye (net.ts): refused, it took the close for a crash and redialled.
    connectionGater: {
      denyDialPeer: (peerId) => guard.refuses(peerId.toString()),
      denyInboundEncryptedConnection: (peerId) => guard.isBanned(peerId.toString()),
      denyOutboundEncryptedConnection: (peerId) => guard.refuses(peerId.toString()),
      denyInboundUpgradedConnection: (peerId) => guard.isBanned(peerId.toString()),
      denyOutboundUpgradedConnection: (peerId) => guard.refuses(peerId.toString()),
    },
    ...(metrics === undefined
      ? {}
      : {
          metrics: metrics.traffic.wrap(prometheusMetrics({ registry: metrics.registry, collectDefaultMetrics: true })),
        }),
    services: {
      ...buildServices(init, guard),
      // Built before the node starts: listeners on its event bus from here see a bootstrap peer
      // that connects and identifies while slower services (UPnP's gateway search) still start.
      // (Creating the node unstarted and starting it later stopped DHT discovery between daemons.)
      eventHooks: (
        components: { events: EventTarget } & LateTopologyComponents &
          ObservedAddressComponents &
          RandomWalkComponents &
          MappingComponents,
      ) => {
        onEvents(components.events)
        ignoreRelayedObservations(components)
        pacedRandomWalk(components)
        const topologies = replayConnectedPeers(components)
        verifyNewMappings(components, topologies)
        return topologies
      },
    },
  }
}
