/**
 * Peers lost without a goodbye are redialled (src/net/auto-dial.ts). A daemon process is
 * SIGKILLed and started again on its home and port, remembering no one it could redial itself:
 * the node that lost it dials it again within a few `connections.redialIntervalMs`, though it
 * has another peer. A daemon stopped cleanly says goodbye (/lateral/bye/1.0.0) and is not
 * redialled, by auto-dial or by libp2p (which redials peers kad-dht tagged keep-alive). Before,
 * nothing redialled a lost peer: without mDNS (any node on the internet) a node that kept other
 * peers never found a lost one again. Without the goodbye, in about 4 runs of 10 the stopping
 * daemon's close raced a write of ours, our side saw a reset, and took it for a crash.
 *
 * A killed process's kernel ends its connections with a reset when it had unread bytes, else
 * with a FIN, which reads as a clean close; auto-dial took only the reset for a crash, and the
 * runs with a FIN (7 kills of 60 here) timed out waiting for the redial. So the node reaches b
 * through a relay (finRelay) that ends its side with a FIN whatever b's kernel sent: the case
 * that failed, every run.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { homePaths } from '../src/core/home.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'
import { runCli, startTestDaemon, type TestDaemon } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

const REDIAL_MS = 300

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

/**
 * A TCP relay to 127.0.0.1:`port` that ends the dialler's side with a FIN however the far side
 * ended (a FIN, or a reset when the far process was killed with bytes unread).
 */
function finRelay(port: number): Promise<Server> {
  const server = createServer((near) => {
    const far = connect(port, '127.0.0.1')
    near.pipe(far)
    far.pipe(near)
    far.on('error', () => near.end())
    near.on('error', () => far.destroy())
    near.on('close', () => far.destroy())
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

/** A node on TCP loopback with no discovery, redialling lost peers every REDIAL_MS. */
const tcpNode = () =>
  createNode({
    key: generateDeviceKey(),
    config: {
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false,
      bootstrap: [],
      metrics: false,
      connections: { redialIntervalMs: REDIAL_MS },
    },
  })

const connected = async (a: LateralNode, peerId: string) => (await a.net.connections()).some((c) => c.peerId === peerId)

describe('redialling lost peers', { timeout: 120_000 }, () => {
  it('a peer that crashed is redialled when it is back; one that said goodbye is not', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lateral-redial-'))
    const home = join(dir, 'b')
    const init = await runCli(['init', '--home', home, '--no-passphrase'])
    assert.equal(init.code, 0, init.stderr)
    // b remembers no one to redial itself at start: only a can bring the two together again.
    writeFileSync(homePaths(home).config, JSON.stringify({ connections: { reconnectAtStart: 0 } }))
    const port = await freePort()
    const args = ['--listen', `/ip4/127.0.0.1/tcp/${port}`, '--api', '127.0.0.1:0', '--no-mdns']
    let b: TestDaemon | undefined
    const stopB = async (signal: NodeJS.Signals) => {
      const child = b?.process
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
      const exit = new Promise((r) => child.once('exit', r))
      child.kill(signal)
      await exit
    }
    const a = await tcpNode()
    const c = await tcpNode()
    t.after(async () => {
      await stopB('SIGKILL')
      await a.stop()
      await c.stop()
      rmSync(dir, { recursive: true, force: true })
    })

    b = await startTestDaemon(0, home, args)
    const relay = await finRelay(port)
    t.after(() => relay.close())
    const bId = b.peerId
    await a.net.connect(`/ip4/127.0.0.1/tcp/${(relay.address() as { port: number }).port}/p2p/${bId}`)
    await a.net.connect(c.net.addresses()[0] as string)

    // A crash, which a sees as a FIN (see the top); b comes back on its port, knowing no one.
    await stopB('SIGKILL')
    await waitFor(async () => ((await connected(a, bId)) ? undefined : true), {
      timeoutMs: 20_000,
      what: 'a to lose b',
    })
    b = await startTestDaemon(0, home, args)
    // a still has c, so only the redial brings b back.
    await waitFor(async () => ((await connected(a, bId)) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'a to redial b after its crash',
    })

    // A goodbye: b stops cleanly. Whatever listens on its port then counts a's dials: none come.
    await stopB('SIGTERM')
    await waitFor(async () => ((await connected(a, bId)) ? undefined : true), {
      timeoutMs: 20_000,
      what: 'a to lose b',
    })
    let dials = 0
    const listener = createServer((socket) => {
      dials++
      socket.destroy()
    })
    await new Promise<void>((r) => listener.listen(port, '127.0.0.1', () => r()))
    t.after(() => listener.close())
    await new Promise((r) => setTimeout(r, 10 * REDIAL_MS))
    assert.equal(dials, 0, 'b, which said goodbye, was not redialled')
  })
})

describe('hanging up on a peer', { timeout: 60_000 }, () => {
  it('a peer hung up on stays apart (no redial, the DHT included; refused both ways) until connected to by name', async (t) => {
    const [a, b] = await Promise.all([tcpNode(), tcpNode()])
    t.after(async () => {
      await a.stop()
      await b.stop()
    })
    await a.net.connect(b.net.addresses()[0] as string)
    // In each other's DHT routing tables, whose queries dial them (the first ~1 s after start).
    await waitFor(() => a.net.dht().routingTableSize > 0 && b.net.dht().routingTableSize > 0, {
      what: 'DHT routing tables',
    })
    const hangUp = await a.net.disconnect(b.peerId)
    assert.equal(hangUp.connections, 1)
    assert.ok((hangUp.refusedUntil ?? 0) > Date.now() + 60_000, 'held for the default 10 minutes')
    await waitFor(async () => ((await connected(b, a.peerId)) ? undefined : true), { what: 'b to lose a' })
    // Without the hold the DHT's query redialled b within a second, and either side's redial would
    // come within a few REDIAL_MS had it taken the close for a loss.
    await new Promise((r) => setTimeout(r, 10 * REDIAL_MS))
    assert.equal(await connected(a, b.peerId), false, 'a did not dial b again')
    assert.equal(await connected(b, a.peerId), false, 'b did not dial a again')
    // b dialling a while a holds it is told goodbye and hung up on: it does not dial a again and
    // again (refused at the gater, it took the close for a crash and redialled every REDIAL_MS,
    // and got in by itself once the hold ended).
    let bDials = 0
    b.net.addEventListener('peer:connect', (evt) => {
      if (evt.detail.peerId === a.peerId) bDials++
    })
    await b.net.connect(a.net.addresses()[0] as string).catch(() => {})
    await waitFor(async () => ((await connected(b, a.peerId)) ? undefined : true), { what: 'a to hang up on b' })
    assert.equal(await connected(a, b.peerId), false)
    const afterRefusal = bDials
    await new Promise((r) => setTimeout(r, 10 * REDIAL_MS))
    assert.equal(bDials, afterRefusal, 'b did not redial a after the refusal')
    assert.equal((await a.net.disconnect(b.peerId)).connections, 0, 'nothing left to close')
    // A dial nobody asked for by name (a download's) is refused too, in words; the user's own lifts the hold.
    await assert.rejects(a.net.connect(b.peerId, { respectHold: true }), /refused here/)
    assert.equal((await a.net.connect(b.net.addresses()[0] as string)).peerId, b.peerId)
    // A peer ID written as a CID holds the same peer.
    const asCid = peerIdFromString(b.peerId).toCID().toString()
    const again = await a.net.disconnect(asCid)
    assert.deepEqual([again.peerId, again.connections], [b.peerId, 1])
    await assert.rejects(a.net.connect(b.peerId, { respectHold: true }), /refused here/)
  })
})
