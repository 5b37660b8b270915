// A plain js-libp2p node, not Lateral's (its usual modules: TCP, Noise, Yamux, identify, ping),
// dials a Lateral node, identifies it and pings it.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import type { IdentifyResult } from '@libp2p/interface'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'
import { waitFor } from '../src/testing/wait.ts'

describe('interop with a plain js-libp2p node', () => {
  let lateral: LateralNode
  let plain: Libp2p<{ identify: ReturnType<ReturnType<typeof identify>>; ping: ReturnType<ReturnType<typeof ping>> }>
  before(async () => {
    lateral = await createNode({
      key: generateDeviceKey(),
      config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, metrics: false },
    })
    plain = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify(), ping: ping() },
    })
  })
  after(async () => {
    await plain?.stop()
    await lateral?.stop()
  })

  it('dials, identifies and pings a Lateral node', async () => {
    // libp2p identifies every new connection itself; take the result it reports.
    const identified = new Promise<IdentifyResult>((resolve) => {
      plain.addEventListener('peer:identify', (evt) => resolve(evt.detail), { once: true })
    })
    const conn = await plain.dial(multiaddr(lateral.net.addresses()[0] as string))
    assert.equal(conn.remotePeer.toString(), lateral.peerId)
    assert.equal(conn.encryption, '/noise', 'a Noise-only peer negotiates Noise with Lateral')

    const result = await identified
    assert.equal(result.peerId.toString(), lateral.peerId)
    assert.equal(result.agentVersion, 'lateral/0.1.0')
    assert.ok(result.protocols.includes('/ipfs/ping/1.0.0'))
    assert.ok(result.protocols.includes('/lateral/kad/1.0.0'))
    assert.ok(result.listenAddrs.length > 0)

    const rtt = await plain.services.ping.ping(conn.remotePeer)
    assert.ok(rtt >= 0)

    // And Lateral sees the plain node, identified.
    const seen = await waitFor(async () =>
      (await lateral.net.connections()).find((c) => c.peerId === plain.peerId.toString() && c.agent !== undefined),
    )
    assert.equal(seen.direction, 'inbound')
    assert.ok(seen.protocols.includes('/ipfs/id/1.0.0'))
  })

  it('Lateral pings the plain node back', async () => {
    const rtt = await lateral.net.ping(plain.peerId.toString())
    assert.ok(rtt >= 0)
  })
})
