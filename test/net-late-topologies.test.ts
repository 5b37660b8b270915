/**
 * A topology registered after a peer connected and identified still hears of it (kad-dht
 * registers in its start(), after the bootstrap module may already have dialled and identified:
 * the DHT then never learned of its bootstrap peer). Real libp2p nodes over TCP on loopback.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import type { Connection, PeerId, Topology } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
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
      // A service, so that its afterStart runs: registrations made while the node starts wait for it.
      replay: (components: LateTopologyComponents) => (withReplay ? replayConnectedPeers(components) : {}),
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

  it('a topology registered while the node starts is told once every service has started', async () => {
    const remotes = await Promise.all([1, 2].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
    const connections = remotes.map((remotePeer) => ({ status: 'open', remotePeer }) as unknown as Connection)
    const registered: Topology[] = []
    const components = {
      registrar: {
        register: async (_protocol: string, topology: Topology) => `${registered.push(topology)}`,
        unregister: () => {},
      },
      connectionManager: { getConnections: () => connections },
      peerStore: { get: async () => ({ protocols: ['/x/1'] }) as never },
    }
    const hooks = replayConnectedPeers(components)
    // Registered inside a service's start(), as AutoNAT v2 does before it marks itself started.
    let serviceStarted = false
    const heard: string[] = []
    await components.registrar.register('/x/1', {
      onConnect: (peerId) => {
        if (serviceStarted) heard.push(peerId.toString()) // AutoNAT ignores peers until then
      },
    })
    // libp2p itself tells it of the second peer (identify completed) before the service marked itself started.
    registered[0]?.onConnect?.(remotes[1] as PeerId, connections[1] as Connection)
    serviceStarted = true
    assert.deepEqual(heard, [], 'not told before every service has started')
    await hooks.afterStart?.()
    assert.deepEqual(
      heard,
      remotes.map((p) => p.toString()),
      'each connected peer, the one it ignored included',
    )
    // A topology with a filter is told once, as libp2p does.
    const seen = new Set<string>()
    const filtered: string[] = []
    await hooks.stop?.()
    await components.registrar.register('/x/1', {
      filter: { has: (p) => seen.has(p.toString()), add: (p) => void seen.add(p.toString()), remove: () => {} },
      onConnect: (peerId) => void filtered.push(peerId.toString()),
    })
    seen.add(remotes[1]?.toString() as string) // libp2p told it already
    await hooks.afterStart?.()
    assert.deepEqual(filtered, [remotes[0]?.toString()])
    // Registered on a started node: told at once.
    const late: string[] = []
    await components.registrar.register('/x/1', { onConnect: (peerId) => void late.push(peerId.toString()) })
    assert.equal(late.length, 2)
    // replay(protocol) tells the protocol's topologies again (AutoNAT, after a new UPnP mapping).
    await hooks.replay('/x/1')
    assert.equal(late.length, 4)
    await hooks.replay('/y/1')
    assert.equal(late.length, 4)
  })
})
