/**
 * A hostile peer for flood tests and `npm run bench -- floods`: a plain js-libp2p node (TCP,
 * Noise, Yamux, identify, gossipsub, a DHT client) that is not Lateral's, driven by `flood(kind)`
 * against one target daemon. Each kind is one of the floods issue 16 names:
 *
 * - `streams`: thousands of blocks streams opened and held open, sending nothing;
 * - `wants`: wants for blocks that do not exist, as fast as the streams take them;
 * - `topic`: gossipsub messages on a topic the target reads, none of them valid Lateral messages;
 * - `dm`: direct-message streams carrying junk and oversized frames;
 * - `dht`: DHT queries (FIND_NODE for random keys), many in parallel;
 * - `junk`: ~5,000 streams with junk and oversized frames, and 400 connections opened and
 *   closed, over the run (the hand-made attack measured before this work).
 *
 * A flood stops at its deadline or once the target refuses it for good (`refused()`); what it
 * managed (streams opened, refused dials) is in its result.
 */
import { randomBytes } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { Connection, Stream } from '@libp2p/interface'
import { type KadDHT, kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { BLOCKS_PROTOCOL, encodeMessage, WANT_BLOCK } from '../../src/content/blocks-message.ts'
import { DHT_PROTOCOL, DM_PROTOCOL, TOPIC_NAMESPACE } from '../../src/core/constants.ts'
import { encodeFrame } from '../../src/core/framing.ts'

export const FLOOD_KINDS = ['streams', 'wants', 'topic', 'dm', 'dht', 'junk'] as const
export type FloodKind = (typeof FLOOD_KINDS)[number]

export interface FloodResult {
  kind: FloodKind
  /** Streams the target accepted (negotiated). */
  streamsOpened: number
  /** Stream opens that failed (reset, refused, connection gone). */
  streamsFailed: number
  /** Connections opened (the `junk` kind's churn and redials). */
  connectionsOpened: number
  /** Dials the target refused (after a ban: every one). */
  dialsRefused: number
  /** Messages sent (wants, gossip messages, frames). */
  messagesSent: number
  /** Milliseconds from the start until the target first refused a dial, if it did. */
  firstRefusalMs?: number
  durationMs: number
}

export interface FloodOptions {
  /** How long to keep going, ms. */
  durationMs: number
  /** Stop early once this many dials in a row were refused (the target banned us). */
  stopAfterRefusals?: number
  signal?: AbortSignal
}

type Services = { identify: ReturnType<ReturnType<typeof identify>>; pubsub: GossipSub; dht: KadDHT; ping: unknown }

export interface Flooder {
  node: Libp2p<Services>
  peerId: string
  flood(kind: FloodKind, options: FloodOptions): Promise<FloodResult>
  /** Whether a fresh dial to the target is refused now. */
  refused(): Promise<boolean>
  stop(): Promise<void>
}

const randomCid = (): CID => CID.createV1(0x55, sha256.digest(randomBytes(32)) as never)

/** A frame whose length prefix claims 64 MiB: every Lateral decoder refuses it before allocating. */
const OVERSIZED = Uint8Array.from([0x80, 0x80, 0x80, 0x20])

export async function createFlooder(target: string, chatTopic?: string): Promise<Flooder> {
  const node = (await createLibp2p({
    addresses: { listen: [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: 1000 },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false }),
      dht: kadDHT({ protocol: DHT_PROTOCOL, clientMode: true, peerInfoMapper: passthroughMapper }),
    },
  })) as unknown as Libp2p<Services>
  const addr = multiaddr(target)

  const dial = async (): Promise<Connection | undefined> => {
    try {
      return await node.dial(addr, { signal: AbortSignal.timeout(5_000) })
    } catch {
      return undefined
    }
  }

  const refused = async (): Promise<boolean> => {
    await node.hangUp(addr).catch(() => {})
    // Past libp2p's one-second window of inbound connections per host.
    await pause(1_100)
    const c = await dial()
    if (c === undefined) return true
    // A gater that checks after the handshake closes at once; give it a moment to do so.
    try {
      const s = await c.newStream(BLOCKS_PROTOCOL, { signal: AbortSignal.timeout(3_000) })
      s.abort(new Error('probe'))
      return false
    } catch {
      return true
    }
  }

  async function flood(kind: FloodKind, options: FloodOptions): Promise<FloodResult> {
    const started = Date.now()
    const deadline = started + options.durationMs
    const result: FloodResult = {
      kind,
      streamsOpened: 0,
      streamsFailed: 0,
      connectionsOpened: 0,
      dialsRefused: 0,
      messagesSent: 0,
      durationMs: 0,
    }
    let refusalsInRow = 0
    const stopAfter = options.stopAfterRefusals ?? Number.POSITIVE_INFINITY
    // Refusals stop the flood once it has begun (the target banned the flooder); refusals before
    // its first stream or message are the per-host connection rate that the flood before this one
    // used up (a clean-clone CI run saw all four first dials refused within 20 ms): dial on.
    const began = () => result.streamsOpened + result.messagesSent > 0
    const going = () =>
      Date.now() < deadline && options.signal?.aborted !== true && (refusalsInRow < stopAfter || !began())
    const held: Stream[] = []

    /** A connection to the target, dialling again when the old one is gone; undefined when refused. */
    let conn: Connection | undefined
    const connection = async (): Promise<Connection | undefined> => {
      if (conn !== undefined && conn.status === 'open') return conn
      conn = await dial()
      if (conn === undefined || conn.status !== 'open') {
        result.dialsRefused++
        refusalsInRow++
        result.firstRefusalMs ??= Date.now() - started
        conn = undefined
        await pause(100)
        return undefined
      }
      refusalsInRow = 0
      result.connectionsOpened++
      return conn
    }
    const open = async (protocol: string): Promise<Stream | undefined> => {
      const c = await connection()
      if (c === undefined) return undefined
      try {
        const s = await c.newStream(protocol, { signal: AbortSignal.timeout(5_000), maxOutboundStreams: 100_000 })
        result.streamsOpened++
        return s
      } catch {
        // Refused or reset: dial afresh next time (a closed connection can still read 'open'
        // here for a moment), and do not spin: a tight loop would measure this process, not the target.
        result.streamsFailed++
        conn = undefined
        await pause(10)
        return undefined
      }
    }
    const send = (s: Stream, bytes: Uint8Array): void => {
      try {
        s.send(bytes)
        result.messagesSent++
      } catch {
        // the target reset it
      }
    }
    // Connected first (libp2p refuses more than a few connections per second from one host, and
    // an earlier flood from the same address may have just used them): refusals count from here.
    for (let i = 0; i < 40 && (await connection()) === undefined; i++) await pause(250)
    result.dialsRefused = 0
    refusalsInRow = 0
    delete result.firstRefusalMs
    /** `parallel` workers each running `step` until the flood ends. */
    const workers = (parallel: number, step: () => Promise<void>) =>
      Promise.all(
        Array.from({ length: parallel }, async () => {
          while (going()) await step()
        }),
      )

    switch (kind) {
      case 'streams':
        await workers(16, async () => {
          const s = await open(BLOCKS_PROTOCOL)
          if (s !== undefined) held.push(s)
          else await pause(10)
          if (held.length > 5_000) held.shift()?.abort(new Error('rotate'))
        })
        break
      case 'wants':
        await workers(8, async () => {
          const s = await open(BLOCKS_PROTOCOL)
          if (s === undefined) return
          s.addEventListener('message', () => {})
          for (let i = 0; i < 20 && going() && s.status === 'open'; i++) {
            send(s, encodeFrame(encodeMessage({ t: 'want', wants: wantsOf(64) })))
            await pause(5)
          }
          s.abort(new Error('next'))
        })
        break
      case 'topic': {
        const topic = `${TOPIC_NAMESPACE}${chatTopic ?? 'chat'}`
        node.services.pubsub.subscribe(topic)
        await connection()
        await workers(1, async () => {
          if ((await connection()) === undefined) return
          try {
            await node.services.pubsub.publish(topic, randomBytes(512))
            result.messagesSent++
          } catch {
            // no peers subscribed (yet, or any more)
          }
          await pause(2)
        })
        break
      }
      case 'dm':
        await workers(8, async () => {
          const s = await open(DM_PROTOCOL)
          if (s === undefined) return
          send(s, encodeFrame(randomBytes(200)))
          send(s, OVERSIZED)
          await pause(5)
          s.abort(new Error('next'))
        })
        break
      case 'dht':
        await connection()
        await workers(64, async () => {
          if ((await connection()) === undefined) return
          try {
            for await (const _ of node.services.dht.getClosestPeers(randomBytes(32), {
              signal: AbortSignal.timeout(2_000),
            })) {
              // drain the query
            }
            result.messagesSent++
          } catch {
            result.streamsFailed++
          }
        })
        break
      case 'junk': {
        // ~5,000 streams with junk and oversized frames over 400 connections opened and closed
        // (about 12 streams each), over the run. Each stream carries 64 KiB of junk after its
        // first frame: whatever the target does not read at once sits in its receive windows.
        const junk = randomBytes(64 * 1024)
        const gapMs = options.durationMs / 400
        let n = 0
        await workers(4, async () => {
          const opened = Date.now()
          let c: Connection | undefined
          try {
            c = await node.dial(addr, { force: true, signal: AbortSignal.timeout(5_000) })
          } catch {
            c = undefined
          }
          if (c === undefined || c.status !== 'open') {
            result.dialsRefused++
            refusalsInRow++
            result.firstRefusalMs ??= Date.now() - started
            await pause(gapMs * 4)
            return
          }
          refusalsInRow = 0
          result.connectionsOpened++
          await Promise.all(
            Array.from({ length: 12 }, async () => {
              const protocol = n++ % 3 === 0 ? `/junk/${n}` : n % 3 === 1 ? BLOCKS_PROTOCOL : DM_PROTOCOL
              try {
                const s = await c.newStream(protocol, {
                  signal: AbortSignal.timeout(5_000),
                  maxOutboundStreams: 100_000,
                })
                result.streamsOpened++
                send(s, n % 2 === 0 ? OVERSIZED : encodeFrame(randomBytes(100)))
                send(s, junk)
              } catch {
                result.streamsFailed++
              }
            }),
          )
          await pause(Math.max(0, gapMs * 4 - (Date.now() - opened)))
          await c.close().catch(() => {})
        })
        break
      }
    }
    for (const s of held) s.abort(new Error('flood over'))
    result.durationMs = Date.now() - started
    return result
  }

  return {
    node,
    peerId: node.peerId.toString(),
    flood,
    refused,
    async stop() {
      await node.stop()
    },
  }
}

function wantsOf(n: number): Array<{ cid: CID; kind: typeof WANT_BLOCK }> {
  return Array.from({ length: n }, () => ({ cid: randomCid(), kind: WANT_BLOCK }))
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
