// Many nodes in one process over the memory transport: the helper later services test with.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createMemoryNetwork, type MemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'

describe('in-process memory network', () => {
  let network: MemoryNetwork
  before(async () => {
    network = await createMemoryNetwork(8)
  })
  after(async () => {
    await network.stop()
  })

  it('nodes that only know a hub find each other through the DHT', async () => {
    await network.connectStar(0)
    const [, first, , , , far] = network.nodes
    assert.ok(first !== undefined && far !== undefined)
    // Node 1 is connected to the hub only; the DHT must locate node 5 through it.
    assert.equal(
      (await first.net.connections()).some((c) => c.peerId === far.peerId),
      false,
    )
    await waitFor(() => (network.nodes[0]?.net.dht().routingTableSize ?? 0) >= 7, { what: 'the hub routing table' })
    const addrs = await first.net.findPeer(far.peerId)
    assert.ok(
      addrs.some((a) => a.startsWith('/memory/')),
      JSON.stringify(addrs),
    )
    const rtt = await first.net.ping(far.peerId)
    assert.ok(rtt >= 0)
  })

  it('reports peers leaving', async () => {
    const [a, b] = [network.nodes[0], network.nodes[2]]
    assert.ok(a !== undefined && b !== undefined)
    const gone = new Promise<string>((resolve) => {
      a.net.addEventListener('peer:disconnect', (evt) => resolve(evt.detail.peerId), { once: true })
    })
    await b.stop()
    assert.equal(await gone, b.peerId)
  })
})
