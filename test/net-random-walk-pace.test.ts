/**
 * libp2p's random walk paced (src/net/random-walk-pace.ts): lookups at least the minimum apart,
 * backing off while they find no new peer, back to the minimum when one does; and, on real nodes,
 * a relay whose reservation cannot be met no longer floods its peers into banning it.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type { PeerInfo } from '@libp2p/interface'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { pacedRouting } from '../src/net/random-walk-pace.ts'
import type { ConfigOverrides } from '../src/node/config.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'
import { waitFor } from '../src/testing/wait.ts'

const peer = (id: string) => ({ id: { toString: () => id }, multiaddrs: [] }) as unknown as PeerInfo

describe('random walk pacing', () => {
  it('spaces lookups, doubles the space while nothing new is found, resets when something is', async () => {
    let clock = 0
    const waits: number[] = []
    let answers: string[][] = [['a', 'b'], ['a'], ['b'], ['a'], ['c'], ['c']]
    const routing = pacedRouting(
      {
        async *getClosestPeers() {
          const [first, ...rest] = answers
          answers = rest
          for (const id of first ?? []) yield peer(id)
        },
      },
      {
        minIntervalMs: 1_000,
        maxIntervalMs: 3_000,
        now: () => clock,
        sleep: async (ms) => {
          waits.push(ms)
          clock += ms
        },
      },
    )
    for (let i = 0; i < 6; i++) {
      for await (const _ of routing.getClosestPeers(new Uint8Array(32))) clock += 10 // a lookup takes time
    }
    // Counted from the end of each lookup: after [a,b] (new) 1 s; [a] (seen) 2 s; [b] 3 s (the
    // cap); [a] 3 s; [c] (new) 1 s.
    assert.deepEqual(waits, [1_000, 2_000, 3_000, 3_000, 1_000])
  })

  it('a relay with an unmet reservation does not flood its peers into banning it; a relayed connection between them stays', async (t) => {
    const node = (config: ConfigOverrides): Promise<LateralNode> =>
      createNode({
        key: generateDeviceKey(),
        config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], metrics: false, ...config },
      })
    // On loopback the relay has no confirmed public address, so it also wants a reservation; no
    // other relay exists, so libp2p walks the DHT for one for as long as the nodes run.
    const relay = await node({ relay: { server: true } })
    t.after(() => relay.stop())
    const hidden = { listen: [], relay: { reservations: 1 } }
    const a = await node(hidden)
    t.after(() => a.stop())
    const b = await node(hidden)
    t.after(() => b.stop())
    const circuits: string[] = []
    for (const n of [a, b]) {
      await n.net.connect(relay.net.addresses()[0] as string)
      circuits.push(
        await waitFor(() => n.net.addresses().find((x) => x.includes('/p2p-circuit')), {
          timeoutMs: 10_000,
          what: 'a relay reservation',
        }),
      )
    }
    const relayed = await b.net.connect(circuits[0] as string)
    assert.equal(relayed.kind, 'relayed')
    // Unpaced, both peers had banned the relay for its DHT streams within 4-7 s.
    await new Promise((r) => setTimeout(r, 10_000))
    for (const n of [a, b]) assert.deepEqual(n.net.bans(), [], 'no peer banned')
    const still = (await b.net.connections()).find((c) => c.peerId === a.peerId)
    assert.equal(still?.kind, 'relayed', 'the relayed connection is still there')
    const sent = await b.messaging.send(a.peerId, `over the relay ${randomBytes(4).toString('hex')}`)
    assert.equal(sent.status, 'delivered', sent.error)
  })
})
