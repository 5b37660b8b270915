/**
 * A topology registered after a peer connected and identified still hears of it (kad-dht
 * registers in its start(), after the bootstrap module may already have dialled and identified:
 * the DHT then never learned of its bootstrap peer). Real libp2p nodes over TCP on loopback.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { PeerId } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { type LateTopologyComponents, replayConnectedPeers } from '../src/net/late-topologies.ts'
import { waitFor } from '../src/testing/wait.ts'

async function peer(withReplay: boolean) {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {
      identify: identify(),
      replay: (components: LateTopologyComponents) => {
        if (withReplay) replayConnectedPeers(components)
        return {}
      },
    },
  })
}

async function lateRegistration(withReplay: boolean): Promise<{ told: PeerId[]; remote: PeerId }> {
  const a = await peer(withReplay)
  const b = await peer(false)
  try {
    await a.dial(b.getMultiaddrs()[0] as never)
    // Identify done: a's peer store holds b's protocols.
    await waitFor(async () => (await a.peerStore.get(b.peerId)).protocols.includes('/ipfs/id/1.0.0'), {
      what: 'identify',
      timeoutMs: 10_000,
    })
    const told: PeerId[] = []
    await a.register('/ipfs/id/1.0.0', { onConnect: (peerId) => void told.push(peerId) })
    // A second registration with a filter: told once, never twice.
    const filtered: PeerId[] = []
    const seen = new Set<string>()
    await a.register('/ipfs/id/1.0.0', {
      filter: {
        has: (p) => seen.has(p.toString()),
        add: (p) => void seen.add(p.toString()),
        remove: (p) => void seen.delete(p.toString()),
      },
      onConnect: (peerId) => void filtered.push(peerId),
    })
    if (withReplay) assert.equal(filtered.length, 1)
    return { told, remote: b.peerId }
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

describe('topologies registered late', { timeout: 30_000 }, () => {
  it('hear of peers connected and identified before they registered', async () => {
    const { told, remote } = await lateRegistration(true)
    assert.deepEqual(
      told.map((p) => p.toString()),
      [remote.toString()],
    )
  })

  it('libp2p alone does not tell them (what the replay is for: if this fails, libp2p now does and the replay can go)', async () => {
    const { told } = await lateRegistration(false)
    assert.equal(told.length, 0)
  })
})
