/**
 * Relays in one process over TCP on loopback (libp2p's address manager throws on relayed memory
 * addresses, so not the memory transport): a node that serves relaying gets reservations
 * from peers that connect to it (without any `/p2p-circuit` listen setting), a third peer reaches
 * one of them through the relay alone, the connection shows as relayed, and a protocol stream
 * works over it. A node with no relay around makes no reservation and reports `private`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import type { ConfigOverrides } from '../src/node/config.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'
import { waitFor } from '../src/testing/wait.ts'

async function node(config: ConfigOverrides = {}): Promise<LateralNode> {
  return createNode({
    key: generateDeviceKey(),
    config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], metrics: false, ...config },
  })
}

describe('circuit relay v2 in process', { timeout: 30_000 }, () => {
  it('a peer reachable only through a relay is dialled through it, and a stream runs over the relayed connection', async (t) => {
    const relay = await node({ relay: { server: true } })
    // One relay around: ask for one reservation (a second would search the DHT for another).
    t.after(() => relay.stop())
    const hidden = await node({ relay: { reservations: 1 } })
    t.after(() => hidden.stop())
    const dialer = await node()
    t.after(() => dialer.stop())

    await hidden.net.connect(relay.net.addresses()[0] as string)
    const circuit = await waitFor(() => hidden.net.addresses().find((a) => a.includes('/p2p-circuit')), {
      timeoutMs: 10_000,
      what: 'a relay reservation',
    })
    assert.ok(circuit.startsWith(relay.net.addresses()[0] as string), circuit)
    const report = hidden.net.reachability()
    assert.equal(report.reachability, 'relayed')
    assert.deepEqual(
      report.relays.map((r) => r.peerId),
      [relay.peerId],
    )
    assert.equal(relay.net.reachability().relayServer.reservations, 1)

    await hidden.net.handle('/lateral/test-echo/1.0.0', async (stream) => {
      for await (const chunk of stream) await stream.write(chunk)
      await stream.close()
    })
    const conn = await dialer.net.connect(circuit)
    assert.equal(conn.peerId, hidden.peerId)
    assert.equal(conn.kind, 'relayed')
    const stream = await dialer.net.openStream(hidden.peerId, '/lateral/test-echo/1.0.0')
    await stream.write(new TextEncoder().encode('through the relay'))
    await stream.close()
    let echoed = ''
    for await (const chunk of stream) echoed += new TextDecoder().decode(chunk)
    assert.equal(echoed, 'through the relay')
  })

  it('a node with no relay around reserves nothing and says private', async (t) => {
    const a = await node()
    t.after(() => a.stop())
    const b = await node()
    t.after(() => b.stop())
    await a.net.connect(b.net.addresses()[0] as string)
    const [peer] = await a.net.connections()
    assert.equal(peer?.kind, 'direct')
    const report = a.net.reachability()
    assert.equal(report.reachability, 'private')
    assert.deepEqual(report.relays, [])
    assert.equal(report.relayServer.enabled, false)
  })
})
