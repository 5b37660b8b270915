/**
 * ls and get do their work once (issue 10, defect 9): listing a remote folder goes through one
 * swarm session (one provider search, one stream per peer) however many blocks it needs, and a
 * file read while its download runs streams out as it arrives instead of being read back after.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { CID } from 'multiformats/cid'
import { BLOCKS_PROTOCOL } from '../src/content/blocks-message.ts'
import { buildApi } from '../src/daemon/api.ts'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Count the downloader's provider searches and blocks streams. */
function countNetwork(node: LateralNode): { searches: number; streams: number } {
  const counts = { searches: 0, streams: 0 }
  const findProviders = node.net.findProviders.bind(node.net)
  node.net.findProviders = (cid, options) => {
    counts.searches++
    return findProviders(cid, options)
  }
  const openStream = node.net.openStream.bind(node.net)
  node.net.openStream = (peerId, protocol, options) => {
    if (protocol === BLOCKS_PROTOCOL) counts.streams++
    return openStream(peerId, protocol, options)
  }
  return counts
}

describe('work done once', { timeout: 60_000 }, () => {
  it('ls of a folder stored elsewhere fetches its blocks through one session', async (t) => {
    const net = await createMemoryNetwork(2)
    const dir = await mkdtemp(join(tmpdir(), 'lateral-ls-once-'))
    t.after(async () => {
      await net.stop()
      await rm(dir, { recursive: true, force: true })
    })
    const [seeder, downloader] = net.nodes as [LateralNode, LateralNode]
    const folder = join(dir, 'folder')
    await mkdir(join(folder, 'sub'), { recursive: true })
    for (let i = 0; i < 8; i++) await writeFile(join(folder, `f${i}.bin`), randomBytes(1000 + i))
    await writeFile(join(folder, 'sub', 'inner.txt'), 'inner')
    const added = await seeder.content.addPath(folder)
    await net.connect(1, 0)
    const counts = countNetwork(downloader)
    const listing = await downloader.content.ls(added.cid)
    assert.deepEqual(
      listing.map((e) => [e.name, e.type, e.size]),
      [
        ['f0.bin', 'file', 1000],
        ['f1.bin', 'file', 1001],
        ['f2.bin', 'file', 1002],
        ['f3.bin', 'file', 1003],
        ['f4.bin', 'file', 1004],
        ['f5.bin', 'file', 1005],
        ['f6.bin', 'file', 1006],
        ['f7.bin', 'file', 1007],
        ['sub', 'directory', listing.at(-1)?.size],
      ],
    )
    // Ten blocks were missing (the folder, eight files, the subfolder): one session for all.
    assert.equal(counts.searches, 1, `provider searches: ${counts.searches}`)
    assert.equal(counts.streams, 1, `blocks streams opened: ${counts.streams}`)
    // Already stored now: a second ls needs the network not at all.
    await downloader.content.ls(added.cid)
    assert.deepEqual(counts, { searches: 1, streams: 1 })
  })

  it('a file read while its get runs streams out as it arrives, each block read once', async (t) => {
    const net = await createMemoryNetwork(2, { content: { uploadLimit: 1024 * 1024 } })
    t.after(() => net.stop())
    const [seeder, downloader] = net.nodes as [LateralNode, LateralNode]
    await net.connect(1, 0)
    const bytes = randomBytes(2 * 1024 * 1024)
    const { cid } = await seeder.content.add([{ path: 'f.bin', size: bytes.length, content: [bytes] }], {
      chunker: 'size-262144',
    })
    const reads = new Map<string, number>()
    const blocks = downloader.content.blockstore
    const getBytes = blocks.getBytes.bind(blocks)
    blocks.getBytes = (c: CID) => {
      reads.set(c.toString(), (reads.get(c.toString()) ?? 0) + 1)
      return getBytes(c)
    }
    let getDone = 0
    const get = downloader.content.get(cid).then((r) => {
      getDone = performance.now()
      return r
    })
    const parts: Uint8Array[] = []
    let firstChunkAt = 0
    for await (const chunk of downloader.content.cat(cid)) {
      firstChunkAt ||= performance.now()
      parts.push(chunk)
    }
    const result = await get
    assert.equal(sha256(Buffer.concat(parts)), sha256(bytes))
    assert.ok(firstChunkAt > 0 && firstChunkAt < getDone, 'the first bytes came out before the download ended')
    assert.equal(result.fetchedBlocks, 9)
    for (const [c, n] of reads) assert.equal(n, 1, `block ${c} read ${n} times`)
  })

  it('the data route streams a file whose get is running (what `lateral get` without -o reads)', async (t) => {
    const net = await createMemoryNetwork(2, { content: { uploadLimit: 1024 * 1024 } })
    const [seeder, downloader] = net.nodes as [LateralNode, LateralNode]
    const token = 'token-0123456789abcdef'
    const app = await buildApi({ node: downloader, token })
    t.after(async () => {
      await app.close()
      await net.stop()
    })
    await net.connect(1, 0)
    const bytes = randomBytes(1536 * 1024)
    const { cid } = await seeder.content.add([{ path: 'f.bin', size: bytes.length, content: [bytes] }], {
      chunker: 'size-262144',
    })
    const headers = { authorization: `Bearer ${token}` }
    const started = await app.inject({ method: 'POST', url: `/v1/content/${cid}/get`, headers, payload: {} })
    assert.equal(started.statusCode, 202)
    const data = await app.inject({ url: `/v1/content/${cid}/data`, headers })
    assert.equal(data.statusCode, 200, data.body)
    assert.equal(sha256(data.rawPayload), sha256(bytes))
    const view = (await app.inject({ url: `/v1/transfers/${started.json().id}`, headers })).json()
    assert.ok(view.state === 'done' || view.state === 'running', view.state)
  })
})
