// Direct messages between nodes in one process: sealing, signatures, delivery, retries, limits.
import assert from 'node:assert/strict'
import { createServer, type Socket, connect as tcpConnect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import { MemoryDatastore } from 'datastore-core'
import { DM_PROTOCOL } from '../src/core/constants.ts'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import { createDeviceSigner } from '../src/identity/device-signer.ts'
import { type DeviceKey, generateDeviceKey } from '../src/identity/keystore.ts'
import { newMessageId, openDirectMessage, sealDirectMessage } from '../src/messaging/dm-envelope.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork, type MemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'

const text = (b: Uint8Array) => new TextDecoder().decode(b)
const SECRET = 'the eagle lands at dawn 7f3a'

/** Every value in a datastore, concatenated (to look for plaintext). */
async function dump(ds: MemoryDatastore): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const { key, value } of ds.query({})) parts.push(Buffer.from(key.toString()), Buffer.from(value))
  return Buffer.concat(parts)
}

describe('direct-message envelopes', () => {
  const alice = createDeviceSigner(generateDeviceKey())
  const bob = createDeviceSigner(generateDeviceKey())
  const ids = { alice: 'alice-id', bob: 'bob-id' }
  const keys: Record<string, Uint8Array> = { 'alice-id': alice.publicKey, 'bob-id': bob.publicKey }
  const publicKeyOf = (p: string) =>
    keys[p] ??
    (() => {
      throw new Error('unknown')
    })()
  const message = {
    v: 1 as const,
    id: newMessageId(),
    from: ids.alice,
    to: ids.bob,
    seq: 1,
    time: Date.now(),
    type: 'text/plain',
    body: new TextEncoder().encode(SECRET),
  }

  it('opens for the recipient only, with the sender verified', async () => {
    const sealed = await sealDirectMessage(message, alice, bob.publicKey)
    assert.equal(Buffer.from(sealed).includes(SECRET), false, 'no plaintext in the envelope')
    const opened = openDirectMessage(sealed, ids.bob, bob, publicKeyOf, { maxBodyBytes: 65536 })
    assert.equal(text(opened.body), SECRET)
    assert.equal(opened.from, ids.alice)
    assert.throws(
      () => openDirectMessage(sealed, ids.alice, alice, publicKeyOf, { maxBodyBytes: 65536 }),
      /addressed to another peer/,
    )
    assert.throws(
      () => openDirectMessage(sealed, ids.bob, alice, publicKeyOf, { maxBodyBytes: 65536 }),
      /does not decrypt/,
    )
  })

  it('refuses a message signed by someone other than its claimed sender', async () => {
    const mallory = createDeviceSigner(generateDeviceKey())
    const forged = await sealDirectMessage(message, mallory, bob.publicKey)
    assert.throws(
      () => openDirectMessage(forged, ids.bob, bob, publicKeyOf, { maxBodyBytes: 65536 }),
      /signature does not match/,
    )
  })

  it('refuses tampered, truncated and malformed envelopes with a clear error', async () => {
    const sealed = await sealDirectMessage(message, alice, bob.publicKey)
    const tampered = new Uint8Array(sealed)
    tampered[tampered.length - 3] = (tampered[tampered.length - 3] as number) ^ 1
    for (const bytes of [
      tampered,
      sealed.subarray(0, 40),
      new Uint8Array(0),
      cbor.encode([1, 2]),
      cbor.encode({ v: 1, to: ids.bob }),
    ]) {
      assert.throws(() => openDirectMessage(bytes, ids.bob, bob, publicKeyOf, { maxBodyBytes: 65536 }), {
        name: 'InvalidInputError',
      })
    }
    assert.throws(() => openDirectMessage(sealed, ids.bob, bob, publicKeyOf, { maxBodyBytes: 3 }), /too large/)
  })
})

describe('direct messages between nodes', () => {
  let network: MemoryNetwork
  let a: LateralNode
  let b: LateralNode
  before(async () => {
    network = await createMemoryNetwork(2)
    ;[a, b] = network.nodes as [LateralNode, LateralNode]
    await network.connect(0, 1)
  })
  after(async () => {
    await network?.stop()
  })

  it('delivers, acknowledges, and keeps per-sender order', async () => {
    const results = []
    for (let i = 1; i <= 5; i++) results.push(await a.messaging.send(b.peerId, `message ${i}`))
    assert.deepEqual(
      results.map((r) => r.status),
      Array(5).fill('delivered'),
    )
    assert.deepEqual(
      results.map((r) => r.seq),
      [1, 2, 3, 4, 5],
    )
    const inbox = await b.messaging.inbox()
    assert.deepEqual(
      inbox.map((m) => text(m.body)),
      ['message 1', 'message 2', 'message 3', 'message 4', 'message 5'],
    )
    assert.ok(inbox.every((m) => m.from === a.peerId && m.to === b.peerId))
    assert.deepEqual(await a.messaging.outbox(), [])
  })

  it('stores a retransmitted envelope once (deduplication)', async () => {
    await b.messaging.deleteFromInbox()
    const { peerId } = b
    const envelope = await sealDirectMessage(
      {
        id: newMessageId(),
        from: a.peerId,
        to: peerId,
        seq: 99,
        time: Date.now(),
        type: 'text/plain',
        body: new Uint8Array([104, 105]),
      },
      createDeviceSigner(network.keys[0] as DeviceKey),
      b.net.publicKeyOf(peerId),
    )
    const acks = []
    for (let i = 0; i < 2; i++) {
      const stream = await a.net.openStream(peerId, DM_PROTOCOL)
      await stream.write(encodeFrame(envelope))
      const frames = readFrames(stream, 4096)[Symbol.asyncIterator]()
      acks.push(cbor.decode((await frames.next()).value as Uint8Array) as { ok: boolean; duplicate?: boolean })
      await stream.close()
    }
    assert.equal(acks[0]?.ok, true)
    assert.equal(acks[0]?.duplicate, undefined)
    assert.deepEqual(acks[1], { ok: true, id: (acks[0] as { id?: string }).id, duplicate: true })
    assert.equal((await b.messaging.inbox()).length, 1)
  })

  it('never lets malformed streams crash the node; the sender is penalised', async () => {
    const before = b.net.penalty(a.peerId)
    const garbage = [
      new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // varint longer than 5 bytes
      encodeFrame(new Uint8Array(200_000)).subarray(0, 10), // announces a frame over the limit
      encodeFrame(new Uint8Array([1, 2, 3])), // not an envelope
      new Uint8Array(Array.from({ length: 512 }, (_, i) => (i * 7919) & 0xff)), // noise
    ]
    for (const bytes of garbage) {
      const stream = await a.net.openStream(b.peerId, DM_PROTOCOL)
      await stream.write(bytes)
      await stream.close().catch(() => {})
      // Drain whatever comes back (an ack or a reset) without caring which.
      try {
        for await (const _ of stream) break
      } catch {}
    }
    await waitFor(() => b.net.penalty(a.peerId) > before + 2, { what: 'penalties' })
    const after = await a.messaging.send(b.peerId, 'still works')
    assert.equal(after.status, 'delivered')
  })

  it('rate-limits a flooding sender; refused messages wait in its outbox and arrive later', async () => {
    // Burst 20, then 2 a second: the refused ones go out over the next retries.
    const flood = await createMemoryNetwork(2, { messaging: { dmBurst: 20, dmPerMinute: 120 } })
    const [x, y] = flood.nodes as [LateralNode, LateralNode]
    try {
      await flood.connect(0, 1)
      const results = []
      for (let i = 0; i < 25; i++) results.push(await x.messaging.send(y.peerId, `flood ${i}`))
      const delivered = results.filter((r) => r.status === 'delivered').length
      assert.ok(delivered >= 20 && delivered < 25, `the burst of 20 went through, then the limit held (${delivered})`)
      assert.equal(results.at(-1)?.status, 'queued')
      assert.match(results.at(-1)?.error ?? '', /rate-limited/)
      // Every refused message waits in the outbox, unless a retry (1 s on) already carried it:
      // read the outbox first, then the inbox, so a message moving between them is seen at least once.
      const waiting = new Set((await x.messaging.outbox()).map((m) => m.id))
      const arrived = new Set((await y.messaging.inbox()).map((m) => m.id))
      for (const r of results.filter((r) => r.status === 'queued')) {
        assert.ok(waiting.has(r.id) || arrived.has(r.id), `refused message ${r.id} is kept`)
      }
      assert.ok(waiting.size <= 25 - delivered)
      await waitFor(async () => (await y.messaging.inbox()).length === 25, {
        what: 'the refused messages',
        timeoutMs: 15_000,
      })
      const texts = (await y.messaging.inbox()).map((m) => text(m.body))
      assert.deepEqual(
        texts,
        Array.from({ length: 25 }, (_, i) => `flood ${i}`),
        'in order, none lost',
      )
    } finally {
      await flood.stop()
    }
  })
})

describe('direct-message limits and confidentiality', () => {
  it('a full inbox refuses new messages, which wait at the sender until there is room', async () => {
    const net = await createMemoryNetwork(2, { messaging: { inboxCap: 2 } })
    const [x, y] = net.nodes as [LateralNode, LateralNode]
    try {
      await net.connect(0, 1)
      assert.equal((await x.messaging.send(y.peerId, 'one')).status, 'delivered')
      assert.equal((await x.messaging.send(y.peerId, 'two')).status, 'delivered')
      const third = await x.messaging.send(y.peerId, 'three')
      assert.equal(third.status, 'queued')
      assert.match(third.error ?? '', /inbox-full/)
      await y.messaging.deleteFromInbox()
      // The outbox retries with backoff (1 s first) and delivers once there is room.
      await waitFor(async () => (await y.messaging.inbox()).length === 1, {
        what: 'the queued message',
        timeoutMs: 10_000,
      })
      assert.equal(text((await y.messaging.inbox())[0]?.body as Uint8Array), 'three')
    } finally {
      await net.stop()
    }
  })

  it('a full outbox fails fast with OutboxFullError', async () => {
    const net = await createMemoryNetwork(2, { messaging: { outboxCap: 1 } })
    const [x, y] = net.nodes as [LateralNode, LateralNode]
    try {
      await net.connect(0, 1)
      await y.stop()
      assert.equal((await x.messaging.send(y.peerId, 'waits')).status, 'queued')
      await assert.rejects(x.messaging.send(y.peerId, 'too many'), { name: 'OutboxFullError' })
    } finally {
      await net.stop()
    }
  })

  it("plaintext is on no wire and in no store but the recipient's", async () => {
    // Two nodes over real TCP, the sender dialling through a recording proxy.
    const stores = { a: new MemoryDatastore(), b: new MemoryDatastore() }
    const config = { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, metrics: false }
    const a = await createNode({
      key: generateDeviceKey(),
      datastore: stores.a,
      config,
      messaging: { retryMinMs: 200, retryMaxMs: 400 },
    })
    const b = await createNode({ key: generateDeviceKey(), datastore: stores.b, config })
    const wire: Buffer[] = []
    const target = b.net.addresses()[0] as string
    const port = Number(/\/tcp\/(\d+)/.exec(target)?.[1])
    const sockets = new Set<Socket>()
    const proxy = createServer((client) => {
      const upstream = tcpConnect(port, '127.0.0.1')
      for (const s of [client, upstream]) sockets.add(s)
      client.on('data', (d) => wire.push(Buffer.from(d)))
      upstream.on('data', (d) => wire.push(Buffer.from(d)))
      client.pipe(upstream).pipe(client)
      client.on('error', () => upstream.destroy())
      upstream.on('error', () => client.destroy())
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    try {
      const proxyPort = (proxy.address() as { port: number }).port
      await a.net.connect(`/ip4/127.0.0.1/tcp/${proxyPort}/p2p/${b.peerId}`)
      assert.equal((await a.messaging.send(b.peerId, SECRET)).status, 'delivered')
      // And one that waits in the sender's outbox (recipient gone), so its store holds a message too.
      await b.stop()
      assert.equal((await a.messaging.send(b.peerId, `${SECRET} (queued)`)).status, 'queued')
      assert.ok(wire.length > 0, 'the proxy saw the connection')
      assert.equal(Buffer.concat(wire).includes(SECRET), false, 'no plaintext on the wire')
      assert.equal((await dump(stores.a)).includes(SECRET), false, "no plaintext in the sender's store")
      assert.equal((await a.messaging.outbox())[0] !== undefined, true)
      assert.equal(
        text((await a.messaging.outbox())[0]?.body as Uint8Array),
        `${SECRET} (queued)`,
        'the sender reads its outbox',
      )
      assert.equal((await dump(stores.b)).includes(SECRET), true, 'the recipient stores what it received')
    } finally {
      for (const s of sockets) s.destroy()
      proxy.close()
      await a.stop()
      await b.stop()
    }
  })
})
