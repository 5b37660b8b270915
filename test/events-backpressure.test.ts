/**
 * Defect 6 of issue 10: an event-stream client that stops reading made the daemon buffer every
 * event for it, without bound, and it was never dropped. Over a real HTTP socket: one client
 * pauses, another reads; large events are published until the paused one is dropped.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { parseSse, type SseEvent } from '../src/core/sse.ts'
import { EventHub } from '../src/daemon/events.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'
import { waitFor } from '../src/testing/wait.ts'

const BOUND = 256 * 1024
const EVENT_PAD = 'x'.repeat(48 * 1024)
/** Enough to fill the loopback socket buffers of the paused client many times over. */
const MAX_EVENTS = 3_000

function open(port: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/v1/events' }, resolve).on('error', reject).end()
  })
}

describe('event stream back-pressure', () => {
  let node: LateralNode
  let hub: EventHub
  let server: Server
  const responses: ServerResponse[] = []

  before(async () => {
    node = await createNode({
      key: generateDeviceKey(),
      transport: 'memory',
      config: { listen: [`/memory/events-bp-${process.pid}`], mdns: false },
    })
    hub = new EventHub(node, { maxClientBufferBytes: BOUND, dropGraceMs: 30_000 })
    server = createServer((req, res) => {
      responses.push(res)
      hub.attach(req, res, { peerId: node.peerId })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
  })
  after(async () => {
    hub.close()
    server.closeAllConnections()
    server.close()
    await node.stop()
  })

  it('drops a stalled reader at the bound with a final event; a reading client gets everything', async (t) => {
    const { port } = server.address() as AddressInfo

    // The stalled client reads the hello, then stops reading the socket.
    const stalled = await open(port)
    await once(stalled, 'data')
    stalled.pause()
    const stalledRes = await waitFor(() => responses[0], { what: 'stalled client attached' })

    const readerRes = await open(port)
    const received: SseEvent[] = []
    const reading = (async () => {
      for await (const e of parseSse(readerRes)) received.push(e)
    })()
    await waitFor(() => received.length === 1 && hub.clientCount === 2, { what: 'reading client attached' })

    let published = 0
    let peakHeld = 0
    let peakUnsent = 0
    let afterDrop = 0
    while (published < MAX_EVENTS && afterDrop < 20) {
      published++
      hub.publish({ type: 'topic:message', data: { n: published, pad: EVENT_PAD } })
      peakUnsent = Math.max(peakUnsent, stalledRes.writableLength)
      // Without a bound the daemon holds everything for the stalled client: stop early, it failed.
      if (peakUnsent > 4 * BOUND) break
      peakHeld = Math.max(peakHeld, ...hub.clientBuffers())
      if (hub.clientCount === 1) afterDrop++
      // Pace the publisher to the reading client, which is slow but keeps up.
      const want = published + 1
      await waitFor(() => received.length >= want, { intervalMs: 1, what: `event ${published} at the reader` })
    }

    assert.ok(peakUnsent <= BOUND, `the daemon held ${peakUnsent} unsent bytes for a stalled client (bound ${BOUND})`)
    assert.ok(peakHeld <= BOUND, `the hub held ${peakHeld} bytes for one client (bound ${BOUND})`)
    assert.equal(hub.droppedCount, 1, 'the stalled client was dropped')
    assert.equal(hub.clientCount, 1, 'the reading client is still attached')
    assert.ok(afterDrop > 0)

    t.diagnostic(
      `published ${published} events of ${EVENT_PAD.length} B; peak held for the stalled client ${peakHeld} B`,
    )
    // The reading client saw hello and every event, in order.
    const numbers = received.slice(1).map((e) => (JSON.parse(e.data) as { n: number }).n)
    assert.equal(received[0]?.event, 'hello')
    assert.deepEqual(
      numbers,
      Array.from({ length: published }, (_, i) => i + 1),
    )
    assert.ok(received.every((e) => e.event !== 'dropped'))

    // The stalled client, reading again (its hello was read already), gets what was sent, then the final event, then the end.
    stalled.resume()
    const late: SseEvent[] = []
    for await (const e of parseSse(stalled)) late.push(e)
    const last = late.at(-1)
    assert.equal(last?.event, 'dropped')
    const why = JSON.parse(last?.data ?? '{}') as { reason: string; limitBytes: number; bufferedBytes: number }
    assert.equal(why.reason, 'slow-reader')
    assert.equal(why.limitBytes, BOUND)
    assert.ok(why.bufferedBytes <= BOUND)
    const seen = late.slice(0, -1).map((e) => (JSON.parse(e.data) as { n: number }).n)
    assert.deepEqual(
      seen,
      Array.from({ length: seen.length }, (_, i) => i + 1),
      'events before the drop arrive in order',
    )
    assert.ok(seen.length > 0 && seen.length < published)

    readerRes.destroy()
    await reading.catch(() => undefined)
    await waitFor(() => hub.clientCount === 0, { what: 'reader detached' })
  })

  it('a stream whose first event is over the bound is dropped at once, not left attached', async () => {
    const tiny = new EventHub(node, { maxClientBufferBytes: 64 })
    const small = createServer((req, res) => tiny.attach(req, res, { pad: 'x'.repeat(100) }))
    small.listen(0, '127.0.0.1')
    await once(small, 'listening')
    try {
      const res = await open((small.address() as AddressInfo).port)
      const got: SseEvent[] = []
      for await (const e of parseSse(res)) got.push(e)
      assert.deepEqual(
        got.map((e) => e.event),
        ['dropped'],
      )
      assert.equal(tiny.clientCount, 0)
      assert.equal(tiny.droppedCount, 1)
    } finally {
      tiny.close()
      small.close()
    }
  })
})
