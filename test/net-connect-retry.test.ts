/**
 * `connect` tries again when the peer's host resets the TCP connection (src/net/dialer.ts): a
 * host refuses a burst of connections from one address (libp2p's per-host inbound limit), and
 * our own DHT, dialling stale peer IDs recorded at the same address, can use up that allowance
 * just before the dial a user asked for. Here a proxy in front of a node resets the first two
 * connections and passes the third through; a refused connection still fails at once.
 */
import assert from 'node:assert/strict'
import { createServer, type Server, connect as tcpConnect } from 'node:net'
import { describe, it } from 'node:test'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'

const node = (): Promise<LateralNode> =>
  createNode({
    key: generateDeviceKey(),
    config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], metrics: false },
  })

/** A TCP proxy to `port` that resets the first `resets` connections. */
async function resettingProxy(
  port: number,
  resets: number,
): Promise<{ server: Server; port: number; seen: () => number }> {
  let seen = 0
  const server = createServer((socket) => {
    seen++
    if (seen <= resets) {
      socket.resetAndDestroy()
      return
    }
    const upstream = tcpConnect(port, '127.0.0.1')
    socket.pipe(upstream).pipe(socket)
    const close = () => {
      socket.destroy()
      upstream.destroy()
    }
    socket.on('error', close)
    upstream.on('error', close)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return { server, port: (server.address() as { port: number }).port, seen: () => seen }
}

describe('connect after a reset', { timeout: 60_000 }, () => {
  it('tries again when the host resets the connection, and gets through', async (t) => {
    const [a, b] = await Promise.all([node(), node()])
    t.after(() => Promise.all([a.stop(), b.stop()]))
    const bPort = Number(/\/tcp\/(\d+)/.exec(b.net.addresses()[0] as string)?.[1])
    const proxy = await resettingProxy(bPort, 2)
    t.after(() => proxy.server.close())
    const conn = await a.net.connect(`/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${b.peerId}`)
    assert.equal(conn.peerId, b.peerId)
    assert.equal(proxy.seen(), 3, 'two resets, then through')
  })

  it('a refused connection is not retried', async (t) => {
    const a = await node()
    t.after(() => a.stop())
    const other = await node()
    const id = other.peerId
    await other.stop()
    // A port nothing listens on: taken, then given back.
    const probe = createServer()
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()))
    const port = (probe.address() as { port: number }).port
    await new Promise<void>((r) => probe.close(() => r()))
    const started = performance.now()
    await assert.rejects(a.net.connect(`/ip4/127.0.0.1/tcp/${port}/p2p/${id}`), /could not connect/)
    // Retried, it would take at least the 3 s of the two delays.
    const ms = performance.now() - started
    assert.ok(ms < 2_500, `failed without the retry delays (${Math.round(ms)} ms)`)
  })
})
