/** The narrow face of the network layer that the rest of Lateral sees. No libp2p types leak. */
import type { AbortOptions } from '../core/abort.ts'
import type { PeerGuardInit } from './peer-guard.ts'
import type { SimFabric } from './sim-fabric.ts'

export type DhtMode = 'client' | 'server'
/** `plaintext` (libp2p's test encrypter, no encryption) only over the sim transport: simulations of many nodes. */
export type Encrypter = 'tls' | 'noise' | 'plaintext'

export interface NetInit {
  /** 32-byte Ed25519 seed of the device key: the node's peer ID. */
  seed: Uint8Array
  /** Listen multiaddrs. A TCP port that is busy is replaced by an ephemeral one. */
  listen: string[]
  /** Addresses announced beside the listen ones without AutoNAT's confirmation (known public addresses). */
  announce?: string[]
  /** Multiaddrs (with /p2p/ID) dialled at start and whenever connections run low. */
  bootstrap: string[]
  /** Multicast DNS discovery on the LAN. */
  mdns: boolean
  /** How often mDNS queries the LAN, ms. */
  mdnsIntervalMs?: number
  dhtMode: DhtMode
  /** Smallest timeout of one DHT request to one peer, ms. Default DEFAULT_DHT_RPC_MIN_TIMEOUT_MS. */
  dhtRpcMinTimeoutMs?: number
  /** Largest timeout of one DHT request to one peer, ms. Default DEFAULT_DHT_RPC_MAX_TIMEOUT_MS. */
  dhtRpcMaxTimeoutMs?: number
  /** Connection encrypters in order of preference. */
  encrypters: Encrypter[]
  maxConnections: number
  maxIncomingPendingConnections: number
  dialTimeoutMs: number
  /** Discovered peers are dialled while fewer than this many are connected. */
  autoDialTarget: number
  /** How many peers remembered in the peer store are redialled at start. */
  reconnectAtStart?: number
  /** How often peers lost without being disconnected on purpose are redialled, ms (DEFAULT_REDIAL_INTERVAL_MS). */
  redialIntervalMs?: number
  /** How long a lost peer is redialled before it is given up, ms (DEFAULT_REDIAL_FOR_MS). */
  redialForMs?: number
  /** `memory` runs over libp2p's in-process memory transport (tests); default TCP + WebSockets. */
  transport?: 'default' | 'memory'
  /**
   * With `transport: 'memory'`: connections cross this simulated network (per-link latency, loss,
   * partitions, vanished peers; sim-fabric.ts) instead of libp2p's memory transport.
   */
  fabric?: SimFabric
  /** Collect Prometheus metrics (libp2p's and the process's). */
  metrics: boolean
  /** Largest pubsub message payload services accept; bounds gossipsub's RPC frames. */
  pubsubMaxMessageBytes?: number
  /** Yamux tuning (bench stack compares settings); defaults in constants.ts. */
  muxer?: MuxerTuning
  /**
   * Relay reservations to keep while this node has no confirmed public address: each on a
   * distinct connected peer that serves relaying. 0 never reserves. Default DEFAULT_RELAY_RESERVATIONS.
   */
  relayReservations?: number
  /** Relays tried when a peer dialled by ID is unreachable at its known addresses. Default DEFAULT_RELAY_DIAL_ATTEMPTS. */
  relayDialAttempts?: number
  /** Serve as a circuit relay v2 for others, with these limits. */
  relayServer?: RelayServerInit
  /** AutoNAT v2: ask peers to dial our addresses back (default on for IP transports). */
  autonat?: boolean
  /** AutoNAT dial-back request timeout, ms. Default DEFAULT_AUTONAT_TIMEOUT_MS. */
  autonatTimeoutMs?: number
  /** UPnP port mapping on the router (default on where a non-loopback IPv4 address is listened on). */
  upnp?: boolean
  /** DCUtR direct-connection attempt timeout, ms. Default DEFAULT_DCUTR_TIMEOUT_MS. */
  dcutrTimeoutMs?: number
  /** Direct dials of relayed peers and the closing of relayed connections once direct (src/net/direct-upgrade.ts). */
  directUpgrade?: DirectUpgradeInit
  /** TCP hole punching between NATed peers (src/net/tcp-punch.ts); on by default off loopback. */
  punch?: PunchInit
  /** Inbound connections per second from one IP address (libp2p's inboundConnectionThreshold). Default DEFAULT_INBOUND_CONNECTIONS_PER_HOST. */
  inboundConnectionsPerHost?: number
  /** Bans, stream rate and connections per peer (peer-guard.ts); defaults in constants.ts. */
  guard?: PeerGuardInit
  /**
   * Simulations of many nodes in one process (src/testing/sim) leave out what they do not
   * measure; a real node keeps the defaults.
   */
  lean?: LeanInit
}

export interface LeanInit {
  /** Gossipsub service. Default true. */
  pubsub?: boolean
  /** libp2p's connection monitor (pings every connection every 10 s). Default true. */
  connectionMonitor?: boolean
  /** libp2p's debug loggers (one made per connection and stream). Default true. */
  debugLoggers?: boolean
}

export interface PunchInit {
  /** Try TCP hole punching over relayed connections. Default true (where a non-loopback address is listened on). */
  enabled?: boolean
  /** One punch's timeout, ms. Default DEFAULT_PUNCH_TIMEOUT_MS. */
  timeoutMs?: number
  /** Wait before the first punch, doubled between attempts, ms. Default DEFAULT_PUNCH_DELAY_MS. */
  delayMs?: number
  /** Punches per relayed connection. Default DEFAULT_PUNCH_ATTEMPTS. */
  attempts?: number
  /** Punches answered at once. Default DEFAULT_PUNCH_MAX_CONCURRENT. */
  maxConcurrent?: number
}

export interface DirectUpgradeInit {
  /** Direct attempts per relayed peer after DCUtR's. Default DEFAULT_DIRECT_UPGRADE_ATTEMPTS. */
  attempts?: number
  /** First retry delay, doubled each time, ms. Default DEFAULT_DIRECT_UPGRADE_BACKOFF_MS. */
  backoffMs?: number
  /** One direct dial's timeout, ms. Default DEFAULT_DIRECT_UPGRADE_TIMEOUT_MS. */
  timeoutMs?: number
  /** Longest wait for a relayed connection's Lateral streams to end once direct, ms. Default DEFAULT_RELAYED_CLOSE_GRACE_MS. */
  closeGraceMs?: number
  /** Interval of that check, ms. Default DEFAULT_RELAYED_CLOSE_CHECK_MS. */
  closeCheckMs?: number
}

export interface RelayServerInit {
  /** true: serve; false: never; 'auto': only while an address of ours is confirmed public and not on battery (relay-gate.ts). */
  enabled?: boolean | 'auto'
  /** Hop streams one peer may hold at once. Default DEFAULT_RELAY_MAX_CIRCUITS_PER_PEER. */
  maxCircuitsPerPeer?: number
  /** Reservations held for peers from one IP address. Default DEFAULT_RELAY_MAX_RESERVATIONS_PER_IP. */
  maxReservationsPerIp?: number
  /** Reservations held at once for all peers. Default DEFAULT_RELAY_MAX_RESERVATIONS. */
  maxReservations?: number
  /** Reservation lifetime, ms. Default DEFAULT_RELAY_RESERVATION_TTL_MS. */
  reservationTtlMs?: number
  /** How long one relayed connection may stay open, ms. Default DEFAULT_RELAY_DURATION_LIMIT_MS. */
  durationLimitMs?: number
  /** Bytes one relayed connection may carry; 0 = unlimited. Default DEFAULT_RELAY_DATA_LIMIT_BYTES. */
  dataLimitBytes?: number
}

export interface MuxerTuning {
  /** Largest Yamux data frame sent, bytes. */
  maxMessageSize?: number
  /** Initial per-stream receive window, bytes (the spec's default is 256 KiB). */
  initialStreamWindowSize?: number
}

export interface PeerConnection {
  peerId: string
  /** Remote address of each open connection to the peer. */
  addresses: string[]
  direction: 'inbound' | 'outbound'
  /** Last measured round trip in ms, if any. */
  latencyMs?: number
  protocols: string[]
  agent?: string
  /** Milliseconds since the epoch when the first open connection was established. */
  openedAt: number
  encryption?: string
  muxer?: string
  /** Bytes received from the peer over its open connections (when metrics are on). */
  bytesIn?: number
  /** Bytes sent to the peer over its open connections (when metrics are on). */
  bytesOut?: number
  /** `direct` when at least one connection to the peer is direct, `relayed` when all go through a relay. */
  kind: 'direct' | 'relayed'
}

export type Reachability = 'public' | 'private' | 'relayed'

/** What kind of NAT this node sits behind, as far as it can tell. */
export type NatKind = 'none' | 'home' | 'hard' | 'carrier' | 'unknown'

export interface ReachabilityReport {
  reachability: Reachability
  /** How the verdict was reached, one sentence each. */
  reasons: string[]
  nat: {
    kind: NatKind
    /** How the router maps our outgoing connections (from observed vs local ports). */
    mapping: 'none' | 'port-preserving' | 'port-changing' | 'unknown'
    reasons: string[]
  }
  /** Our addresses with what confirmed them (AutoNAT, UPnP, the transport itself). */
  addresses: Array<{
    address: string
    source: 'listen' | 'observed' | 'upnp' | 'relay' | 'announce'
    verified: boolean
    /** Unix ms of the last confirmation, if any. */
    lastVerified?: number
  }>
  /** Our address as peers saw it on direct connections (identify), newest first. */
  observed: Array<{ address: string; by: string; localPort?: number }>
  upnp: { enabled: boolean; gateway?: string; externalAddress?: string; mappings: string[]; error?: string }
  /** Relays holding a reservation for us. */
  relays: Array<{ peerId: string; address: string }>
  relayServer: { enabled: boolean; reservations: number }
  /** TCP hole punching (src/net/tcp-punch.ts): whether it runs, and its outcomes since start (as the leading side). */
  punch: { enabled: boolean; attempted: number; succeeded: number; failed: number; lastError?: string }
  /** What the user could do about what was found. */
  advice: string[]
}

export interface TrafficTotals {
  /** Bytes received since the node started. */
  bytesIn: number
  /** Bytes sent since the node started. */
  bytesOut: number
}

/** One step of a DHT walk, as the walk reports it. */
export type DhtQueryEvent =
  | { type: 'send-query'; to: string }
  /** A peer answered: the closer peers it named, and providers when asked for them. */
  | { type: 'peer-response'; from: string; closer: string[]; providers: string[] }
  | { type: 'query-error'; from: string; error: string }
  /** The peer looked for was found (`from`: who named it; this node itself when found locally). */
  | { type: 'final-peer'; from: string; peer: string }

export interface ConnectOptions extends AbortOptions {
  /**
   * A dial nobody asked for by name (a download reaching a provider): a peer this node hung up
   * on stays refused. By default connecting lifts the hold (net.disconnect) on the peer named by
   * the target, a peer ID or an address ending in /p2p/<id>.
   */
  respectHold?: boolean
}

/** What hanging up on a peer did. */
export interface HangUp {
  /** The peer, its ID in canonical form. */
  peerId: string
  /** Connections to the peer that were open and are now closed (0: it was not connected). */
  connections: number
  /** Until when (Unix ms) the peer is refused both ways; undefined when holds are off (`hangUpHoldMs` 0). */
  refusedUntil: number | undefined
}

export interface DhtQueryOptions extends AbortOptions {
  /** Each step of the walk, as it happens (hop counts, who answered). */
  onQuery?: (event: DhtQueryEvent) => void
  /** `false`: walk the DHT even when the peer store already knows the answer. Default true. */
  useCache?: boolean
}

export interface DhtStatus {
  mode: DhtMode
  routingTableSize: number
  protocol: string
}

export type ValidationResult = 'accept' | 'reject' | 'ignore'

export interface PubSubMessage {
  topic: string
  /** Author of the message: gossipsub signs every message with its author's key (StrictSign). */
  from: string
  data: Uint8Array
  /** The peer that forwarded it to us. */
  propagationSource: string
}

/** Decides whether a message is delivered and forwarded. Must be fast and must not throw. */
export type TopicValidator = (message: PubSubMessage) => ValidationResult

/** Publish/subscribe over gossipsub, topics as raw strings (services namespace them). */
export interface PubSub {
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  /** Topics this node is subscribed to. */
  topics(): string[]
  /** Sign and publish; resolves with the number of peers it was sent to. */
  publish(topic: string, data: Uint8Array): Promise<{ recipients: number }>
  setValidator(topic: string, validator: TopicValidator): void
  removeValidator(topic: string): void
  /** Peers known to be subscribed to the topic. */
  subscribers(topic: string): string[]
  /** Peers in this node's mesh for the topic. */
  meshPeers(topic: string): string[]
  /** The peer's gossipsub score as this node sees it. */
  score(peerId: string): number
}

export interface NetEvents {
  'pubsub:message': CustomEvent<PubSubMessage>
  'peer:connect': CustomEvent<{ peerId: string }>
  'peer:disconnect': CustomEvent<{ peerId: string }>
  'peer:identify': CustomEvent<{ peerId: string; protocols: string[]; agent?: string }>
  'addresses:change': CustomEvent<{ addresses: string[] }>
}

/** How much a stream may hold for a slow reader, and how long a write may wait for it. */
export interface StreamLimits {
  /**
   * Unsent bytes the stream may keep queued when a write resolves (its write buffer bound).
   * A write always hands its bytes over, then waits until the queue is at most this; so the
   * queue holds at most this plus one write. Default DEFAULT_STREAM_WRITE_BUFFER_BYTES.
   */
  maxBufferedBytes?: number
  /**
   * A write whose queue makes no progress (not one byte taken by the reader) for this long
   * resets the stream and rejects with a TimeoutError. Default: no deadline.
   */
  writeTimeoutMs?: number
}

export interface HandleOptions extends StreamLimits {
  /** Streams of this protocol one connection may have open at once. */
  maxInboundStreams?: number
}

export interface OpenStreamOptions extends AbortOptions, StreamLimits {
  /**
   * The stream will carry bulk data (blocks). It is opened on a connection without a data limit
   * where the peer has one (direct first), and on a relayed connection whose relay limits the
   * bytes it carries only while more than BULK_RELAY_RESERVE_BYTES remain; otherwise it fails
   * with PeerUnreachableError. The stream's `remainingBytes` then says how much more the relay
   * allows, so the user of the stream stays within it (what it leaves is for messages).
   */
  bulk?: boolean
}

/** A bidirectional byte stream of one protocol, with back-pressure (for services). */
export interface ProtocolStream {
  readonly protocol: string
  readonly remotePeer: string
  /** Bytes written but not yet taken by the transport (undefined where a stream cannot tell). */
  readonly bufferedBytes?: number
  /**
   * Bytes, both ways, that the stream's connection may still carry before its relay closes it;
   * undefined when the connection has no data limit (a direct one, or a relay that sets none).
   */
  readonly remainingBytes?: number
  /** Iterate over incoming chunks. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array>
  /**
   * Send bytes; resolves once the stream's unsent bytes are back within its bound
   * (`StreamLimits.maxBufferedBytes`). Rejects, and resets the stream, when the write deadline
   * passes without progress.
   */
  write(bytes: Uint8Array, options?: AbortOptions): Promise<void>
  close(options?: AbortOptions): Promise<void>
  abort(err: Error): void
}

export type ProtocolHandler = (stream: ProtocolStream) => void | Promise<void>

export interface Net {
  readonly peerId: string
  start(): Promise<void>
  stop(): Promise<void>
  isStarted(): boolean
  /** Addresses others can dial, each ending in /p2p/<peerId>. */
  addresses(): string[]
  /** Protocols this node answers. */
  protocols(): string[]
  connections(): Promise<PeerConnection[]>
  /** Dial a multiaddr (with /p2p/) or a known peer ID. */
  connect(target: string, options?: ConnectOptions): Promise<PeerConnection>
  /**
   * Hang up on a peer. It is told first (docs/protocols/bye.md), so it does not take the close
   * for a crash and redial, and it is refused both ways for `connections.hangUpHoldMs` (the DHT's
   * next query would redial it) unless `connect` names it again. On a peer not connected it
   * closes nothing but still holds it (and a lost peer is no longer redialled).
   */
  disconnect(peerId: string, options?: AbortOptions): Promise<HangUp>
  /** One round trip to a peer, in milliseconds. */
  ping(target: string, options?: AbortOptions): Promise<number>
  dht(): DhtStatus
  /** How others can reach this node, with the evidence (AutoNAT, UPnP, relays, observed addresses). */
  reachability(): ReachabilityReport
  /** `reachability()` plus active probes (the UPnP gateway's external address), for `lateral doctor`. */
  diagnose(options?: AbortOptions): Promise<ReachabilityReport>
  /** Bytes on the wire since start, both ways; undefined when metrics are off. */
  traffic(): TrafficTotals | undefined
  /** Ask the DHT for a peer's addresses. */
  findPeer(peerId: string, options?: DhtQueryOptions): Promise<string[]>
  /**
   * The peers closest to a key (32 bytes are taken as is; kad-dht hashes the key) that a DHT walk
   * finds, as they are found. For measuring lookups (testing/sim); services use findPeer/findProviders.
   */
  closestPeers(key: Uint8Array, options?: DhtQueryOptions): AsyncGenerator<string>
  /** Announce in the DHT that this node provides the block with this CID (string form). */
  provide(cid: string, options?: AbortOptions): Promise<void>
  /**
   * Peers the DHT names as providers of a CID, as they are found. Their addresses go into the
   * peer store, so they can be dialled by peer ID afterwards.
   */
  findProviders(cid: string, options?: DhtQueryOptions): AsyncGenerator<{ peerId: string; addresses: string[] }>
  /** Peers that the peer store remembers (connected or not). */
  knownPeers(): Promise<Array<{ peerId: string; addresses: string[] }>>
  handle(protocol: string, handler: ProtocolHandler, options?: HandleOptions): Promise<void>
  unhandle(protocol: string): Promise<void>
  openStream(peerId: string, protocol: string, options?: OpenStreamOptions): Promise<ProtocolStream>
  /**
   * Call `release` once `bytes` bytes of views of `buffer` have been written out by a
   * connection's TLS socket (natively encrypted TCP connections, native-tls.ts): from then on no
   * layer below a stream holds them, and the buffer may be filled again. Bytes that leave any
   * other way (another transport, a reset stream) are never counted, so `release` is then never
   * called and the buffer is left to the garbage collector.
   */
  leaseBuffer(buffer: ArrayBuffer, bytes: number, release: () => void): void
  /**
   * The caller is done with these views of received bytes, and nothing it handed them to keeps
   * them: where they are all of a buffer that a connection's TLS socket read (natively encrypted
   * TCP connections, native-tls.ts), that buffer's memory is given back now instead of at a
   * later garbage collection, and every view of it becomes empty. Views of other buffers are
   * left alone. Returns the bytes given back.
   */
  releaseReceived(views: readonly Uint8Array[]): number
  /** Prometheus text exposition of libp2p's and the process's metrics ('' when disabled). */
  metricsText(): Promise<string>
  readonly pubsub: PubSub
  /**
   * Count misbehaviour against a peer (invalid message, corrupt data). Penalties decay with a
   * half-life of a minute and feed gossipsub's application score, so offenders leave meshes.
   */
  penalize(peerId: string, points: number, reason: string): void
  /** Current penalty points of a peer (decayed). */
  penalty(peerId: string): number
  /** Peers banned now (penalty past the ban threshold), refused both ways until `until` (Unix ms). */
  bans(): Array<{ peerId: string; until: number; reason: string }>
  /** The raw 32-byte Ed25519 public key inside an Ed25519 peer ID. */
  publicKeyOf(peerId: string): Uint8Array
  addEventListener<K extends keyof NetEvents>(
    type: K,
    listener: (evt: NetEvents[K]) => void,
    options?: boolean | { once?: boolean; signal?: AbortSignal },
  ): void
  removeEventListener<K extends keyof NetEvents>(
    type: K,
    listener: (evt: NetEvents[K]) => void,
    options?: boolean,
  ): void
}
