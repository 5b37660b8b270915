/**
 * Content routing and limits in one process (memory transport): a provider found through the
 * DHT only, periodic reprovide, the download limit as a lower bound on time, cancelling a get.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'

async function addRandom(node: LateralNode, size: number): Promise<string> {
  const bytes = randomBytes(size)
  return (await node.content.add([{ path: 'f.bin', size, content: [bytes] }], { chunker: 'size-262144' })).cid
}

describe('content routing and limits', { timeout: 120_000 }, () => {
  it('finds a provider it is not connected to through the DHT, and dials it', async (t) => {
    // No auto-dialling of discovered peers: the downloader reaches the seeder only through the DHT.
    // No hold after a hang-up: the test hangs up on the seeder for the session to dial it again.
    const net = await createMemoryNetwork(3, { connections: { autoDialTarget: 0, hangUpHoldMs: 0 } })
    t.after(() => net.stop())
    const [seeder, hub, downloader] = net.nodes as [LateralNode, LateralNode, LateralNode]
    await net.connect(0, 1)
    await net.connect(2, 1)
    await waitFor(() => seeder.net.dht().routingTableSize > 0 && downloader.net.dht().routingTableSize > 0, {
      what: 'DHT routing tables',
    })
    const cid = await addRandom(seeder, 1024 * 1024)
    // add announces in the background; wait until the hub holds the record.
    await waitFor(
      async () => {
        for await (const p of hub.net.findProviders(cid, { signal: AbortSignal.timeout(2000) }))
          if (p.peerId === seeder.peerId) return true
        return false
      },
      { what: 'the provider record' },
    )
    // DHT queries (the seeder's announcement among them) may have connected the two: hang up
    // until they stay apart, so only the session's DHT lookup can bring the seeder back.
    await waitFor(
      async () => {
        await downloader.net.disconnect(seeder.peerId)
        await new Promise((r) => setTimeout(r, 100))
        return !(await downloader.net.connections()).some((c) => c.peerId === seeder.peerId)
      },
      { what: 'the downloader and the seeder apart' },
    )
    const result = await downloader.content.get(cid, { timeoutMs: 20_000 })
    assert.equal(result.peers.find((p) => p.peerId === seeder.peerId)?.bytes, result.bytes)
    const providers = await downloader.content.providers(cid, { timeoutMs: 3000 })
    assert.ok(providers.some((p) => p.peerId === seeder.peerId && p.sources.includes('dht')))
  })

  it('announces every pin again every reprovideIntervalMs', async (t) => {
    const net = await createMemoryNetwork(2, { content: { reprovideIntervalMs: 300 } })
    t.after(() => net.stop())
    const [node] = net.nodes as [LateralNode]
    const cid = await addRandom(node, 1000)
    const announced: string[] = []
    const original = node.net.provide.bind(node.net)
    node.net.provide = async (c, options) => {
      announced.push(c)
      return original(c, options)
    }
    await waitFor(() => announced.filter((c) => c === cid).length >= 2, { what: 'two reprovides' })
  })

  it('the download limit holds: 1.5 MiB at 512 KiB/s takes at least 2 s', async (t) => {
    const net = await createMemoryNetwork(2, { content: { downloadLimit: 512 * 1024 } })
    t.after(() => net.stop())
    const [seeder, downloader] = net.nodes as [LateralNode, LateralNode]
    await net.connect(1, 0)
    const cid = await addRandom(seeder, 1536 * 1024)
    const started = performance.now()
    await downloader.content.get(cid)
    // A lower bound only (the bucket may start with 100 ms of traffic): never flaky.
    assert.ok(performance.now() - started >= 1900, `took ${Math.round(performance.now() - started)} ms`)
  })

  it('a cancelled get rejects with AbortedError and leaves no output behind', async (t) => {
    const net = await createMemoryNetwork(2, { content: { uploadLimit: 256 * 1024 } })
    const dir = await mkdtemp(join(tmpdir(), 'lateral-cancel-'))
    t.after(async () => {
      await net.stop()
      await rm(dir, { recursive: true, force: true })
    })
    const [seeder, downloader] = net.nodes as [LateralNode, LateralNode]
    await net.connect(1, 0)
    const cid = await addRandom(seeder, 4 * 1024 * 1024)
    const controller = new AbortController()
    const seen: number[] = []
    const get = downloader.content.get(cid, {
      output: join(dir, 'out.bin'),
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p.fetchedBytes)
        if (p.fetchedBytes > 0) controller.abort()
      },
    })
    await assert.rejects(get, { name: 'AbortedError' })
    assert.ok(seen.length > 0)
    assert.deepEqual(await readdir(dir), [])
  })
})
