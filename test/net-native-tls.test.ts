/**
 * src/net/native-tls.ts: the `/tls/1.0.0` handshake on the TCP socket itself. Real libp2p nodes
 * over TCP on loopback: data crosses intact both ways, the socket was taken over (not run
 * through a JS stream), the wire stays libp2p TLS (a stock `@libp2p/tls` peer talks to it either
 * way), a wrong peer ID is refused, bytes that arrive with multistream-select's last line are
 * handed to TLS, the traffic count of a taken-over socket keeps counting, and a connection
 * closed while its streams' bytes are on their way delivers them all (native TLS and the
 * `@libp2p/tls` fallback alike; a second close joins the first), its close keeps the caller's
 * deadline, and a socket reset from below leaves no close waiting.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { connect as tcpConnect } from 'node:net'
import { Duplex } from 'node:stream'
import { after, describe, it, type TestContext } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import { connect as tlsConnect } from 'node:tls'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { ConnectionEncrypter, MessageStream, Metrics, MultiaddrConnection } from '@libp2p/interface'
import { memory } from '@libp2p/memory'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { tls } from '@libp2p/tls'
import { multiaddrConnectionPair } from '@libp2p/utils'
import type { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import {
  leaseBuffer,
  type NativeTlsComponents,
  nativeSocketOf,
  nativeTls,
  releaseReceived,
} from '../src/net/native-tls.ts'
import { Traffic } from '../src/net/traffic.ts'
import { waitFor } from '../src/testing/wait.ts'

const ECHO = '/test/echo/1.0.0'
const MiB = 1024 * 1024

/**
 * The native encrypter, remembering every connection it was asked to secure in `seen`, and
 * handing each it secured, with the encrypted stream on it, to `onSecured`.
 */
function recordingNativeTls(
  seen: MessageStream[],
  onSecured: (raw: MessageStream, encrypted: MessageStream) => void = () => {},
) {
  const factory = nativeTls()
  return (components: NativeTlsComponents): ConnectionEncrypter => {
    const inner = factory(components)
    const wrap =
      (direction: 'secureInbound' | 'secureOutbound') =>
      async (c: MessageStream, o?: Parameters<ConnectionEncrypter['secureInbound']>[1]) => {
        seen.push(c)
        const secured = await inner[direction](c, o)
        onSecured(c, secured.connection)
        return secured
      }
    return Object.assign(Object.create(inner) as ConnectionEncrypter, {
      secureInbound: wrap('secureInbound'),
      secureOutbound: wrap('secureOutbound'),
    })
  }
}

/** A libp2p logger that writes nothing. */
const silentLog = Object.assign(() => {}, {
  error() {},
  trace() {},
  enabled: false,
  newScope: (): unknown => silentLog,
})

/** A metrics seam that only feeds a Traffic counter. */
function trafficMetrics(traffic: Traffic) {
  return traffic.wrap(
    () =>
      ({
        trackMultiaddrConnection: () => {},
        trackProtocolStream: () => {},
        registerMetric: () => ({ update() {}, increment() {}, decrement() {}, reset() {}, timer: () => () => {} }),
        registerMetricGroup: () => ({ update() {}, increment() {}, decrement() {}, reset() {}, timer: () => () => {} }),
        registerCounter: () => ({ increment() {}, reset() {} }),
        registerCounterGroup: () => ({ increment() {}, reset() {} }),
        registerHistogram: () => ({ observe() {}, reset() {}, timer: () => () => {} }),
        registerHistogramGroup: () => ({ observe() {}, reset() {}, timer: () => () => {} }),
        registerSummary: () => ({ observe() {}, reset() {}, timer: () => () => {} }),
        registerSummaryGroup: () => ({ observe() {}, reset() {}, timer: () => () => {} }),
        createTrace: () => undefined,
        traceFunction: (_name: string, fn: unknown) => fn,
      }) as unknown as Metrics,
  )
}

async function node(encrypter: 'native' | 'stock', seen: MessageStream[] = [], traffic?: Traffic): Promise<Libp2p> {
  const n = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [encrypter === 'native' ? recordingNativeTls(seen) : tls()],
    streamMuxers: [yamux()],
    ...(traffic === undefined ? {} : { metrics: trafficMetrics(traffic) }),
  })
  // Echo every byte back, then close.
  await n.handle(ECHO, async (stream) => {
    for await (const chunk of stream) {
      if (!stream.send(chunk)) await new Promise((r) => stream.addEventListener('drain', r, { once: true }))
    }
    await stream.close()
  })
  return n
}

/** Send `bytes` over an echo stream from `from` to `to` and return what came back. */
async function echo(from: Libp2p, to: Libp2p, bytes: Uint8Array): Promise<Buffer> {
  const stream = await from.dialProtocol(to.getMultiaddrs()[0] as ReturnType<typeof multiaddr>, ECHO)
  const back: Uint8Array[] = []
  const reading = (async () => {
    for await (const chunk of stream) back.push(chunk.subarray())
  })()
  for (let at = 0; at < bytes.length; at += 256 * 1024) {
    if (!stream.send(bytes.subarray(at, at + 256 * 1024)))
      await new Promise((r) => stream.addEventListener('drain', r, { once: true }))
  }
  await stream.close()
  await reading
  return Buffer.concat(back)
}

describe('native TLS on TCP sockets', { timeout: 60_000 }, () => {
  const nodes: Libp2p[] = []
  after(() => Promise.all(nodes.map((n) => n.stop())))
  const started = async (...args: Parameters<typeof node>) => {
    const n = await node(...args)
    nodes.push(n)
    return n
  }

  it('moves data both ways on the socket itself, and the traffic count keeps up', async () => {
    const seenA: MessageStream[] = []
    const seenB: MessageStream[] = []
    const traffic = new Traffic()
    const a = await started('native', seenA, traffic)
    const b = await started('native', seenB)
    const bytes = randomBytes(4 * MiB)
    const back = await echo(a, b, bytes)
    assert.equal(Buffer.compare(back, bytes), 0, 'the echo came back intact')
    assert.equal(seenA.length, 1)
    assert.equal(seenB.length, 1)
    for (const c of [...seenA, ...seenB]) assert.ok(nativeSocketOf(c), 'the TCP socket was taken over')
    const conn = a.getConnections(b.peerId)[0]
    assert.equal(conn?.encryption, '/tls/1.0.0')
    // Counted on the wire: both 4 MiB and TLS's framing, though nothing passed the JS stream.
    assert.ok(traffic.totals.bytesOut > 4 * MiB, `sent ${traffic.totals.bytesOut}`)
    assert.ok(traffic.totals.bytesIn > 4 * MiB, `received ${traffic.totals.bytesIn}`)
    if (conn !== undefined) traffic.opened(conn)
    assert.ok(conn !== undefined && traffic.of([conn]).bytesIn > 4 * MiB)
    // Closing ends the socket, and the count of a closed connection stays in the totals.
    const before = traffic.totals.bytesIn
    await a.hangUp(b.peerId)
    assert.equal(a.getConnections(b.peerId).length, 0)
    const socket = nativeSocketOf(seenA[0] as MessageStream)?.socket
    await new Promise<void>((resolve) => (socket?.closed === true ? resolve() : socket?.once('close', () => resolve())))
    assert.ok(traffic.totals.bytesIn >= before)
  })

  it('speaks libp2p TLS with a stock @libp2p/tls peer, either side dialling', async () => {
    const seen: MessageStream[] = []
    const native = await started('native', seen)
    const stock = await started('stock')
    const bytes = randomBytes(MiB)
    assert.equal(Buffer.compare(await echo(native, stock, bytes), bytes), 0)
    assert.equal(Buffer.compare(await echo(stock, native, bytes), bytes), 0)
    assert.ok(seen.length >= 1 && seen.every((c) => nativeSocketOf(c) !== undefined))
  })

  it('refuses a peer that is not the one dialled', async () => {
    const a = await started('native')
    const b = await started('native')
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const addr = b.getMultiaddrs()[0]?.decapsulateCode(421).encapsulate(`/p2p/${other.toString()}`)
    await assert.rejects(a.dial(addr as ReturnType<typeof multiaddr>), /peer|key|match|Unexpected/i)
    assert.equal(a.getConnections(b.peerId).length, 0)
  })

  it('hands TLS the bytes that arrived with multistream-select', { timeout: 15_000 }, async () => {
    const seen: MessageStream[] = []
    const listener = await started('native', seen)
    const [, , host, , port] = (listener.getMultiaddrs()[0]?.toString() ?? '').split('/')
    // multistream-select's header and proposal, each a varint-length-prefixed line.
    const line = (s: string) => Buffer.concat([Buffer.from([s.length + 1]), Buffer.from(`${s}\n`)])
    const proposal = Buffer.concat([line('/multistream/1.0.0'), line('/tls/1.0.0')])
    const socket = tcpConnect(Number(port), host)
    await new Promise((r) => socket.once('connect', r))
    // A transport for the client's TLS that sends its first flight in the same write as the
    // proposal (so the listener reads the ClientHello together with it) and drops the
    // listener's answer (the same two lines) before passing the rest to TLS.
    let first = true
    let toSkip = proposal.length
    const transport = new Duplex({
      write(chunk: Buffer, _enc, cb) {
        socket.write(first ? Buffer.concat([proposal, chunk]) : chunk, cb)
        first = false
      },
      read() {},
    })
    socket.on('data', (data: Buffer) => {
      const skip = Math.min(toSkip, data.length)
      toSkip -= skip
      if (data.length > skip) transport.push(data.subarray(skip))
    })
    // The client needs a libp2p certificate (the listener asks for one and checks it).
    const { generateCertificate } = (await import(new URL('./utils.js', import.meta.resolve('@libp2p/tls')).href)) as {
      generateCertificate(key: unknown): Promise<{ cert: string; key: string }>
    }
    const client = tlsConnect({
      socket: transport,
      ...(await generateCertificate(await generateKeyPair('Ed25519'))),
      rejectUnauthorized: false,
      minVersion: 'TLSv1.3',
      ALPNProtocols: ['libp2p'],
    })
    await new Promise<void>((resolve, reject) => {
      client.once('secureConnect', () => resolve())
      client.once('error', reject)
    })
    // The listener finished the handshake from the pipelined ClientHello, natively.
    const taken = seen.find((c) => nativeSocketOf(c) !== undefined)
    assert.ok(taken, 'the listener took the socket over')
    client.destroy()
    socket.destroy()
  })

  it('a connection that is not TCP is encrypted by @libp2p/tls', async () => {
    const inner = nativeTls()
    const calls: string[] = []
    const components = {
      privateKey: await generateKeyPair('Ed25519'),
      logger: { forComponent: () => silentLog },
      upgrader: { getStreamMuxers: () => new Map() },
    } as unknown as NativeTlsComponents
    const encrypter = inner(components)
    // No socket on this stream: the stock path takes it (and fails on its missing parts, which
    // shows it was the one called: the native path would have refused on the missing socket).
    const fake = {
      log: Object.assign(() => {}, { error() {}, trace() {}, newScope: () => fake.log }),
      addEventListener: () => calls.push('listen'),
      removeEventListener: () => {},
      pause: () => calls.push('pause'),
      resume: () => calls.push('resume'),
      send: () => true,
      abort: () => {},
      direction: 'outbound',
    } as unknown as MultiaddrConnection
    const attempt = encrypter.secureOutbound(fake, { signal: AbortSignal.timeout(200) })
    await assert.rejects(attempt)
    assert.ok(calls.includes('pause'), '@libp2p/tls wrapped the stream as a duplex')
    assert.equal(nativeSocketOf(fake), undefined)
  })
})

describe('closing a connection over TLS', { timeout: 60_000 }, () => {
  const SINK = '/test/sink/1.0.0'
  const nodes: Libp2p[] = []
  after(() => Promise.all(nodes.map((n) => n.stop())))

  /** Connections an encrypter secured: the transport's connection and the encrypted stream on it. */
  interface Captured {
    raw: MessageStream
    encrypted: MessageStream
  }
  /** The native encrypter, recording what it secures in `into`. */
  const capturing = (into: Captured[]) => recordingNativeTls([], (raw, encrypted) => into.push({ raw, encrypted }))

  /** Two nodes on `transport`; the second counts what each sink stream got. */
  async function pair(transport: 'tcp' | 'memory') {
    const captured = { a: [] as Captured[], b: [] as Captured[] }
    const make = (into: Captured[]) =>
      createLibp2p({
        addresses: {
          listen: [transport === 'tcp' ? '/ip4/127.0.0.1/tcp/0' : `/memory/close-${process.pid}-${nodes.length}`],
        },
        transports: [transport === 'tcp' ? tcp() : memory()],
        connectionEncrypters: [capturing(into)],
        streamMuxers: [yamux()],
      })
    const a = await make(captured.a)
    nodes.push(a)
    const b = await make(captured.b)
    nodes.push(b)
    const received: Array<Promise<{ bytes: Buffer; error?: string }>> = []
    await b.handle(SINK, (stream) => {
      received.push(
        (async () => {
          const parts: Uint8Array[] = []
          try {
            for await (const chunk of stream) parts.push(chunk.subarray())
            return { bytes: Buffer.concat(parts) }
          } catch (err) {
            return { bytes: Buffer.concat(parts), error: String(err) }
          }
        })(),
      )
    })
    const connect = async () => {
      const conn = await a.dial(b.getMultiaddrs()[0] as ReturnType<typeof multiaddr>)
      // b's side of the handshake may finish a moment after a's.
      while (captured.b.length === 0) await delay(10)
      return conn
    }
    return { a, b, received, captured, connect }
  }

  /** What the sink streams got, smallest first, checked against what was sent (in that order). */
  async function assertDelivered(received: Array<Promise<{ bytes: Buffer; error?: string }>>, sent: Buffer[]) {
    assert.equal(received.length, sent.length, 'every stream reached the peer')
    const got = (await Promise.all(received)).sort((x, y) => x.bytes.length - y.bytes.length)
    for (const [i, r] of got.entries()) {
      const want = sent[i] as Buffer
      assert.equal(r.error, undefined, `stream ${i} ended in an error`)
      assert.equal(r.bytes.length, want.length, `stream ${i}: ${r.bytes.length} of ${want.length} bytes`)
      assert.equal(Buffer.compare(r.bytes, want), 0, `stream ${i} came intact`)
    }
  }

  it('a socket reset from below leaves no close waiting', async () => {
    const { captured, connect } = await pair('tcp')
    await connect()
    const b = captured.b[0] as Captured
    const socket = nativeSocketOf(b.raw)?.socket
    assert.ok(socket !== undefined)
    socket.resetAndDestroy()
    while (b.raw.status === 'open') await delay(20)
    // The encrypted stream closed the TCP connection when TLS closed under it; its close (and
    // the connection's) settle, where they had waited for a 'close' the socket had already emitted.
    const settled = await Promise.race([
      b.encrypted.close().then(() => 'closed'),
      delay(3000).then(() => 'still waiting'),
    ])
    assert.equal(settled, 'closed')
  })

  it("the caller's deadline bounds the close, on @libp2p/tls over a transport that drains slowly", async () => {
    const keys = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')])
    const components = keys.map(
      (privateKey) =>
        ({
          privateKey,
          logger: { forComponent: () => silentLog },
          upgrader: { getStreamMuxers: () => new Map() },
        }) as unknown as NativeTlsComponents,
    )
    const [ra, rb] = multiaddrConnectionPair({ capacity: 1000 })
    const [sa] = await Promise.all([
      nativeTls()(components[0] as NativeTlsComponents).secureOutbound(ra, {
        remotePeer: peerIdFromPrivateKey(keys[1] as Parameters<typeof peerIdFromPrivateKey>[0]),
        skipStreamMuxerNegotiation: true,
      }),
      nativeTls()(components[1] as NativeTlsComponents).secureInbound(rb, { skipStreamMuxerNegotiation: true }),
    ])
    // From now on each message takes 2 s to cross, and the transport's close waits for them.
    ;(ra as unknown as { local: { delay: number } }).local.delay = 2000
    sa.connection.send(new Uint8Array(1000))
    const started = performance.now()
    const outcome = await Promise.race([
      ra.close({ signal: AbortSignal.timeout(300) }).then(
        () => 'closed',
        (err: Error) => err.name,
      ),
      delay(5000).then(() => 'still waiting'),
    ])
    const ms = performance.now() - started
    assert.equal(outcome, 'TimeoutError')
    assert.ok(ms < 1500, `settled after ${Math.round(ms)} ms`)
    assert.equal(ra.status, 'aborted', 'nothing left half closed')
  })

  for (const transport of ['tcp', 'memory'] as const) {
    const over = transport === 'tcp' ? 'native TLS' : '@libp2p/tls on a non-TCP stream'
    it(`delivers every byte written before the close (${over})`, async () => {
      const { received, connect } = await pair(transport)
      const conn = await connect()
      // A small write (it sits in buffers at the close) and one larger than the socket takes at once.
      const sent = [randomBytes(1000), randomBytes(3 * MiB)]
      for (const bytes of sent) (await conn.newStream(SINK)).send(bytes)
      // Closed while the streams' bytes are still on their way: the connection's close closes
      // each stream once its bytes are with the muxer, then the muxer, then TLS and the socket.
      await conn.close()
      await assertDelivered(received, sent)
    })

    it(`a second close while the first flushes joins it (${over})`, async () => {
      const { received, captured, connect } = await pair(transport)
      const conn = await connect()
      const a = captured.a[0] as Captured
      // When the connection's close reaches the transport's connection, close that again at once
      // (as a second close of the node, or a stop during a hang-up, does).
      const close = a.raw.close.bind(a.raw)
      let second: Promise<void> | undefined
      a.raw.close = (options) => {
        const first = close(options)
        second ??= close({ signal: AbortSignal.timeout(5000) })
        return first
      }
      const sent = [randomBytes(3 * MiB)]
      ;(await conn.newStream(SINK)).send(sent[0] as Buffer)
      await conn.close()
      await second
      await assertDelivered(received, sent)
    })
  }
})

/** A Lateral node on TCP loopback (so native TLS), no discovery, stopped after the test. */
async function lateralNode(t: TestContext, metrics = false) {
  const { createNode } = await import('../src/node/node.ts')
  const { generateDeviceKey } = await import('../src/identity/keystore.ts')
  const node = await createNode({
    key: generateDeviceKey(),
    config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], metrics },
  })
  t.after(() => node.stop())
  return node
}

describe('traffic of a Lateral node over native TLS', { timeout: 60_000 }, () => {
  it('status traffic and the Prometheus global transfer counter count the bytes of a stream', async (t) => {
    const a = await lateralNode(t, true)
    const b = await lateralNode(t, true)
    let received = 0
    const done = new Promise<void>((resolve) => {
      void b.net.handle('/test/sink/1.0.0', async (stream) => {
        for await (const chunk of stream) received += chunk.byteLength
        resolve()
      })
    })
    const conn = await a.net.connect(b.net.addresses()[0] as string)
    assert.equal(conn.encryption, '/tls/1.0.0')
    const stream = await a.net.openStream(b.peerId, '/test/sink/1.0.0')
    const payload = randomBytes(MiB)
    for (let i = 0; i < 8; i++) await stream.write(payload)
    await stream.close()
    await done
    assert.equal(received, 8 * MiB)
    const sent = a.net.traffic()?.bytesOut ?? 0
    assert.ok(sent > 8 * MiB, `status traffic counted ${sent} bytes out`)
    const metric = (text: string, key: string) =>
      Number(
        new RegExp(`^libp2p_data_transfer_bytes_total\\{protocol="${key}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 'NaN',
      )
    const out = metric(await a.net.metricsText(), 'global sent')
    assert.ok(out > 8 * MiB, `libp2p's global sent counter: ${out}`)
    const into = metric(await b.net.metricsText(), 'global received')
    assert.ok(into > 8 * MiB, `libp2p's global received counter: ${into}`)
  })
})

describe('a connection refused once TLS names the peer', { timeout: 60_000 }, () => {
  it('ends without harm to either side: a banned peer dialling in again, many times', async (t) => {
    const a = await lateralNode(t)
    const b = await lateralNode(t)
    await b.net.connect(a.net.addresses()[0] as string)
    // a's gater refuses b after the TLS handshake (the peer is known only then). The TCP socket
    // was destroyed under the live TLS socket: the process died of SIGSEGV in OpenSSL.
    a.net.penalize(b.peerId, 1_000, 'test offence')
    for (let i = 0; i < 10; i++) {
      await b.net.connect(a.net.addresses()[0] as string).catch(() => {})
      await waitFor(async () => ((await a.net.connections()).length === 0 ? true : undefined), {
        what: 'a to be rid of b',
      })
    }
    await waitFor(async () => ((await b.net.connections()).length === 0 ? true : undefined), {
      what: 'b to see every refusal end',
    })
    // Both still serve: a third node reaches a over native TLS.
    const c = await lateralNode(t)
    assert.equal((await c.net.connect(a.net.addresses()[0] as string)).encryption, '/tls/1.0.0')
  })
})

describe('buffer leases on native TLS', { timeout: 60_000 }, () => {
  const nodes: Libp2p[] = []
  after(() => Promise.all(nodes.map((n) => n.stop())))

  it('releases a leased buffer once, after the socket wrote all of it; never when its bytes are dropped', async () => {
    const a = await node('native')
    const b = await node('native')
    nodes.push(a, b)
    // A sink that reads everything, and one that reads nothing.
    await b.handle('/test/sink/1.0.0', async (stream) => {
      for await (const _ of stream);
    })
    let stall: (() => void) | undefined
    await b.handle('/test/stall/1.0.0', async (stream) => {
      // Paused: no window updates, so the sender keeps most of what it was given queued.
      stream.pause()
      await new Promise<void>((resolve) => {
        stall = resolve
      })
      stream.abort(new Error('done'))
    })
    const target = b.getMultiaddrs()[0] as ReturnType<typeof multiaddr>

    const buffer = new ArrayBuffer(4 * MiB)
    new Uint8Array(buffer).set(randomBytes(4 * MiB))
    let released = 0
    leaseBuffer(buffer, buffer.byteLength, () => released++)
    const sink = await a.dialProtocol(target, '/test/sink/1.0.0')
    for (let at = 0; at < buffer.byteLength; at += MiB) {
      if (!sink.send(new Uint8Array(buffer, at, MiB)))
        await new Promise((r) => sink.addEventListener('drain', r, { once: true }))
    }
    await sink.close()
    await waitUntil(() => released === 1)
    await delay(100)
    assert.equal(released, 1, 'released exactly once')

    // 8 MiB to a paused reader: most of it stays queued on this side, then the stream is reset.
    const dropped = new ArrayBuffer(8 * MiB)
    let droppedReleased = 0
    leaseBuffer(dropped, dropped.byteLength, () => droppedReleased++)
    const stalled = await a.dialProtocol(target, '/test/stall/1.0.0')
    stalled.send(new Uint8Array(dropped))
    await delay(200)
    stalled.abort(new Error('give up'))
    stall?.()
    await delay(300)
    assert.equal(droppedReleased, 0, 'bytes that never left are never counted as written')
  })
})

describe('received buffers on native TLS', { timeout: 60_000 }, () => {
  const nodes: Libp2p[] = []
  after(() => Promise.all(nodes.map((n) => n.stop())))

  /**
   * `to` reads `bytes` from `from` on one stream, hashing each chunk and then releasing it; it
   * answers with the SHA-256 of what it read. The bytes given back, and checks made on the way.
   */
  async function sendAndRelease(from: Libp2p, to: Libp2p, bytes: Uint8Array) {
    const seen = { freed: 0, emptied: 0, halves: [] as number[], foreign: -1 }
    await to.handle('/test/release/1.0.0', async (stream) => {
      const hash = createHash('sha256')
      for await (const list of stream) {
        for (const view of list instanceof Uint8Array ? [list] : list) {
          hash.update(view)
          const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength
          if (whole && seen.halves.length === 0 && view.byteLength >= 2) {
            // One half released twice frees nothing; the other half then frees the buffer.
            const length = view.byteLength
            const half = length >> 1
            seen.halves.push(releaseReceived([view.subarray(0, half)]), releaseReceived([view.subarray(0, half)]))
            seen.halves.push(releaseReceived([view.subarray(half)]), length)
            continue
          }
          seen.freed += releaseReceived([view])
          if (whole && view.byteLength === 0) seen.emptied++
        }
      }
      seen.foreign = releaseReceived([new Uint8Array(64 * 1024)])
      stream.send(hash.digest())
      await stream.close()
    })
    const stream = await from.dialProtocol(to.getMultiaddrs()[0] as ReturnType<typeof multiaddr>, '/test/release/1.0.0')
    const answer: Uint8Array[] = []
    const reading = (async () => {
      for await (const chunk of stream) answer.push(chunk.subarray())
    })()
    for (let at = 0; at < bytes.length; at += 256 * 1024) {
      if (!stream.send(bytes.subarray(at, at + 256 * 1024)))
        await new Promise((r) => stream.addEventListener('drain', r, { once: true }))
    }
    await stream.close()
    await reading
    await to.unhandle('/test/release/1.0.0')
    return { ...seen, digest: Buffer.concat(answer) }
  }

  it('gives back a buffer the socket read once views released cover it, and the connection reads on', async () => {
    const a = await node('native')
    const b = await node('native')
    nodes.push(a, b)
    const bytes = randomBytes(8 * MiB)
    const seen = await sendAndRelease(a, b, bytes)
    assert.deepEqual(seen.digest, createHash('sha256').update(bytes).digest(), 'every byte read before it was released')
    // Chunks that also hold a Yamux header are never covered by data views; the rest are.
    assert.ok(seen.freed >= 4 * MiB, `gave back ${seen.freed} of ${8 * MiB} bytes`)
    assert.ok(seen.emptied > 0, 'a released buffer is detached: its views are empty')
    const [firstHalf, again, secondHalf, length] = seen.halves
    assert.deepEqual([firstHalf, again, secondHalf], [0, 0, length], 'a half twice frees nothing; both halves free it')
    assert.equal(seen.foreign, 0, 'a buffer no socket read is left alone')
    // Nothing below the stream kept a view of what was given back: the same connection carries on.
    const more = randomBytes(2 * MiB)
    assert.equal(Buffer.compare(await echo(a, b, more), more), 0)
    assert.equal(a.getConnections(b.peerId).length, 1, 'over the same connection')
  })

  it('leaves alone what a stock @libp2p/tls connection read', async () => {
    const a = await node('stock')
    const b = await node('stock')
    nodes.push(a, b)
    const bytes = randomBytes(MiB)
    const seen = await sendAndRelease(a, b, bytes)
    assert.deepEqual(seen.digest, createHash('sha256').update(bytes).digest())
    assert.equal(seen.freed, 0)
    assert.equal(seen.emptied, 0)
  })
})

async function waitUntil(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting')
    await delay(20)
  }
}
