/**
 * Streams to a peer reached through a relay use the relayed connection that exists (src/net/
 * protocols.ts). libp2p's dial reuses only connections without limits, and every relayed
 * connection has one (a duration at least), so each stream opened to such a peer dialled a new
 * circuit through the relay; past the relay's per-peer share (`maxCircuitsPerPeer`) those were
 * refused, and direct messages stayed queued. In one process over TCP on loopback; the hidden
 * peer listens on nothing but its relay.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import type { ConfigOverrides } from '../src/node/config.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'
import { waitFor } from '../src/testing/wait.ts'

const PROTOCOL = '/lateral-test/echo/1.0.0'

async function node(config: ConfigOverrides = {}): Promise<LateralNode> {
  return createNode({
    key: generateDeviceKey(),
    config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], metrics: false, ...config },
  })
}

describe('streams over a relayed connection', { timeout: 60_000 }, () => {
  it('many streams at once to a relayed peer go over its one relayed connection', async (t) => {
    const relay = await node({ relay: { server: true, maxCircuitsPerPeer: 2 } })
    t.after(() => relay.stop())
    const hidden = await node({ listen: [], relay: { reservations: 1 } })
    t.after(() => hidden.stop())
    const dialer = await node()
    t.after(() => dialer.stop())
    await hidden.net.handle(PROTOCOL, async (stream) => {
      for await (const chunk of stream) {
        await stream.write(chunk)
        break
      }
      await stream.close()
    })
    await hidden.net.connect(relay.net.addresses()[0] as string)
    const circuit = await waitFor(() => hidden.net.addresses().find((a) => a.includes('/p2p-circuit')), {
      timeoutMs: 10_000,
      what: 'a relay reservation',
    })
    assert.equal((await dialer.net.connect(circuit)).kind, 'relayed')

    // Twelve at once: more than the relay's share of circuits for one peer.
    const answers = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const stream = await dialer.net.openStream(hidden.peerId, PROTOCOL, { signal: AbortSignal.timeout(20_000) })
        await stream.write(Uint8Array.of(i))
        for await (const chunk of stream) return chunk[0]
        return undefined
      }),
    )
    assert.deepEqual(
      answers,
      Array.from({ length: 12 }, (_, i) => i),
    )
    const toHidden = (await dialer.net.connections()).filter((c) => c.peerId === hidden.peerId)
    assert.equal(toHidden.length, 1, `one connection to the hidden peer: ${JSON.stringify(toHidden)}`)
  })
})
