/**
 * The relay server's per-peer share (src/net/relay-gate.ts), in one process over TCP on loopback:
 * a peer may hold `maxCircuitsPerPeer` relayed circuits through a relay at once; one more is
 * refused while the first runs, and allowed once it ends. And `relay.server: 'auto'` on a node
 * with no confirmed public address does not serve.
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

describe('relay server limits per peer', { timeout: 60_000 }, () => {
  it('a peer gets at most maxCircuitsPerPeer circuits through the relay at once', async (t) => {
    const relay = await node({ relay: { server: true, maxCircuitsPerPeer: 1 } })
    t.after(() => relay.stop())
    assert.equal(relay.net.reachability().relayServer.enabled, true)
    const hidden: LateralNode[] = []
    const circuits: string[] = []
    for (let i = 0; i < 2; i++) {
      // Listening on nothing but the relay: every connection to them is relayed (directly
      // dialable on loopback, a direct connection could come up beside a circuit, and a dial of
      // the circuit then returned it: seen once in CI).
      const h = await node({ listen: [], relay: { reservations: 1 } })
      t.after(() => h.stop())
      await h.net.connect(relay.net.addresses()[0] as string)
      circuits.push(
        await waitFor(() => h.net.addresses().find((a) => a.includes('/p2p-circuit')), {
          timeoutMs: 10_000,
          what: 'a relay reservation',
        }),
      )
      hidden.push(h)
    }
    const dialer = await node()
    t.after(() => dialer.stop())

    const first = await dialer.net.connect(circuits[0] as string)
    assert.equal(first.kind, 'relayed')
    // The first circuit runs: a second one for the same peer is over its share.
    await assert.rejects(dialer.net.connect(circuits[1] as string))
    // No connection to the second peer.
    assert.equal((await dialer.net.connections()).filter((c) => c.peerId === hidden[1]?.peerId).length, 0)

    // Once the first ends, the second is within the share.
    await dialer.net.disconnect(hidden[0]?.peerId as string)
    const second = await waitFor(
      () =>
        dialer.net.connect(circuits[1] as string).then(
          (c) => c,
          () => undefined,
        ),
      { timeoutMs: 10_000, intervalMs: 200, what: 'the second circuit once the first ended' },
    )
    assert.equal(second.peerId, hidden[1]?.peerId)
    assert.equal(second.kind, 'relayed')
  })

  it('a reservation is dropped when its peer disconnects, so the slot serves the next peer', async (t) => {
    // One slot: before the fix, a peer that came and went held it for the reservation's TTL (2 h).
    const relay = await node({ relay: { server: true, maxReservations: 1 } })
    t.after(() => relay.stop())
    const reserve = async () => {
      const h = await node({ relay: { reservations: 1 } })
      t.after(() => h.stop())
      await h.net.connect(relay.net.addresses()[0] as string)
      await waitFor(() => h.net.addresses().find((a) => a.includes('/p2p-circuit')), {
        timeoutMs: 10_000,
        what: 'a relay reservation',
      })
      return h
    }
    const first = await reserve()
    assert.equal(relay.net.reachability().relayServer.reservations, 1)
    await first.stop()
    await waitFor(() => (relay.net.reachability().relayServer.reservations === 0 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the gone peer’s reservation to be dropped',
    })
    await reserve()
    assert.equal(relay.net.reachability().relayServer.reservations, 1)
  })

  it("relay.server 'auto' does not serve without a confirmed public address", async (t) => {
    const a = await node({ listen: ['/ip4/127.0.0.1/tcp/0'], relay: { server: 'auto' } })
    t.after(() => a.stop())
    assert.equal(a.net.reachability().relayServer.enabled, false)
  })
})
