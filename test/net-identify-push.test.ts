/**
 * A node tells its connected peers when its protocols change (identify push): a peer that
 * connected while this node was still starting (the bootstrap dial races the listeners and the
 * services' handlers) must not keep the first, partial picture for the life of the connection.
 */
import { describe, it } from 'node:test'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'

describe('identify push', { timeout: 30_000 }, () => {
  it('a protocol handled after the connection opened reaches the connected peer', async (t) => {
    const network = await createMemoryNetwork(2)
    t.after(() => network.stop())
    const [a, b] = network.nodes as [(typeof network.nodes)[0], (typeof network.nodes)[0]]
    await network.connect(0, 1)
    const protocolsOfB = async () => (await a.net.connections()).find((c) => c.peerId === b.peerId)?.protocols ?? []
    await waitFor(async () => (await protocolsOfB()).includes('/ipfs/id/1.0.0'), {
      what: 'identify',
      timeoutMs: 10_000,
    })

    await b.net.handle('/lateral/test-late/1.0.0', async (stream) => stream.close())
    await waitFor(async () => (await protocolsOfB()).includes('/lateral/test-late/1.0.0'), {
      what: 'the new protocol at the connected peer',
      timeoutMs: 10_000,
    })
  })
})
