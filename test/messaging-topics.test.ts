// Topics over gossipsub with 20 nodes in one process (memory transport).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import type { ReceivedTopicMessage } from '../src/messaging/index.ts'
import { wireTopic } from '../src/messaging/topics.ts'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork, type MemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'

const N = 20
const TOPIC = 'general'

describe('topics: 20 nodes in one process', () => {
  let network: MemoryNetwork
  let nodes: LateralNode[]
  const received = new Map<string, ReceivedTopicMessage[]>()

  before(async () => {
    network = await createMemoryNetwork(N)
    nodes = network.nodes
    // A ring plus chords: every node has 4 neighbours, no node knows everyone.
    await network.connectRing()
    await Promise.all(nodes.map((_, i) => network.connect(i, (i + 5) % N)))
    for (const node of nodes) {
      received.set(node.peerId, [])
      node.messaging.join(TOPIC)
      node.messaging.addEventListener('topic:message', (evt) => received.get(node.peerId)?.push(evt.detail))
    }
    await waitFor(() => nodes.every((n) => n.net.pubsub.meshPeers(wireTopic(TOPIC)).length >= 3), {
      what: 'every mesh to form',
      timeoutMs: 30_000,
    })
  })
  after(async () => {
    await network?.stop()
  })

  const reset = () => {
    for (const list of received.values()) list.length = 0
  }

  it('a message reaches every other subscriber exactly once', async () => {
    reset()
    const sender = nodes[0] as LateralNode
    await sender.messaging.publish(TOPIC, 'hello, nineteen peers')
    await waitFor(() => nodes.slice(1).every((n) => (received.get(n.peerId)?.length ?? 0) >= 1), {
      what: 'delivery to all 19',
      timeoutMs: 40_000,
    })
    // Give duplicates every chance to arrive: one more message must be all anyone sees next.
    await sender.messaging.publish(TOPIC, 'second')
    await waitFor(() => nodes.slice(1).every((n) => (received.get(n.peerId)?.length ?? 0) >= 2), {
      what: 'second delivery',
      timeoutMs: 40_000,
    })
    for (const node of nodes.slice(1)) {
      const texts = (received.get(node.peerId) ?? []).map((m) => new TextDecoder().decode(m.body))
      assert.deepEqual(texts, ['hello, nineteen peers', 'second'], `node ${node.peerId}`)
      assert.equal(received.get(node.peerId)?.[0]?.from, sender.peerId)
    }
    assert.equal(received.get(sender.peerId)?.length, 0, 'the sender does not receive its own message')
  })

  it('invalid and oversized messages reach no one, and the library refuses to send them', async () => {
    reset()
    const bad = nodes[3] as LateralNode
    const topic = wireTopic(TOPIC)
    const oversized = cbor.encode({
      v: 1,
      from: bad.peerId,
      time: Date.now(),
      type: 'text/plain',
      body: new Uint8Array(70 * 1024),
    })
    const forged = cbor.encode({
      v: 1,
      from: (nodes[4] as LateralNode).peerId,
      time: Date.now(),
      type: 'text/plain',
      body: new Uint8Array(1),
    })
    const wrongShape = cbor.encode({ hello: 'world' })
    for (const data of [oversized, forged, wrongShape, new Uint8Array([0xff, 0x00, 0x13])]) {
      await bad.net.pubsub.publish(topic, data)
    }
    await assert.rejects(bad.messaging.publish(TOPIC, 'x'.repeat(70 * 1024)), { name: 'InvalidInputError' })
    // A valid message sent after them arrives; none of the invalid ones ever did.
    await bad.messaging.publish(TOPIC, 'valid')
    await waitFor(() => nodes.filter((n) => n !== bad).every((n) => (received.get(n.peerId)?.length ?? 0) >= 1), {
      what: 'the valid message',
      timeoutMs: 40_000,
    })
    for (const node of nodes) {
      for (const m of received.get(node.peerId) ?? []) assert.equal(new TextDecoder().decode(m.body), 'valid')
    }
  })

  it('a node that keeps sending invalid messages is scored down and pruned from meshes', async () => {
    const bad = nodes[7] as LateralNode
    const topic = wireTopic(TOPIC)
    const neighbours = nodes.filter((n) => n.net.pubsub.meshPeers(topic).includes(bad.peerId))
    assert.ok(neighbours.length > 0, 'the bad node starts in some meshes')
    for (let i = 0; i < 10; i++) await bad.net.pubsub.publish(topic, cbor.encode({ junk: i }))
    await waitFor(
      () =>
        neighbours.every(
          (n) => n.net.pubsub.score(bad.peerId) < 0 && !n.net.pubsub.meshPeers(topic).includes(bad.peerId),
        ),
      { what: 'the bad node to be scored below zero and pruned', timeoutMs: 15_000 },
    )
    for (const n of neighbours) assert.ok(n.net.penalty(bad.peerId) >= 1)
    // The rest of the network still works. Nodes whose mesh links went through the bad node
    // re-mesh at the next heartbeats (seconds more on a loaded machine), and a message published
    // before that may have left the gossip window by then: one is published every 2 s until
    // every other node has had one (a single message timed out twice in clean-clone runs).
    reset()
    const sender = nodes[0] as LateralNode
    let sent = 0
    const publishing = setInterval(() => {
      void sender.messaging.publish(TOPIC, `still here ${++sent}`).catch(() => {})
    }, 2_000)
    try {
      await sender.messaging.publish(TOPIC, 'still here 0')
      await waitFor(
        () => nodes.filter((n) => n !== bad && n !== sender).every((n) => (received.get(n.peerId)?.length ?? 0) >= 1),
        { what: 'delivery after pruning', timeoutMs: 45_000 },
      )
    } finally {
      clearInterval(publishing)
    }
  })

  it('a topic handle iterates incoming messages until it leaves', async () => {
    const reader = (nodes[10] as LateralNode).messaging.topic('side')
    const writer = (nodes[11] as LateralNode).messaging.topic('side')
    await waitFor(() => writer.peers().includes((nodes[10] as LateralNode).peerId), { what: 'side topic peers' })
    await waitFor(() => (nodes[11] as LateralNode).net.pubsub.meshPeers(wireTopic('side')).length > 0, {
      what: 'side mesh',
    })
    await writer.publish('one')
    const got: string[] = []
    for await (const m of reader) {
      got.push(new TextDecoder().decode(m.body))
      reader.leave()
    }
    assert.deepEqual(got, ['one'])
    writer.leave()
    assert.deepEqual((nodes[10] as LateralNode).messaging.joined(), [TOPIC])
  })
})
