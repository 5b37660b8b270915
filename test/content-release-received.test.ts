/**
 * A download gives the buffers its blocks arrived in back as soon as they are stored
 * (`Net.releaseReceived`, swarm-session.ts), in one process over TCP on loopback (native TLS):
 * the file is intact, most of its bytes are given back, and a reader that streams the file out
 * while it arrives (waiting for blocks, so handed their bytes) still reads every byte right.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'

const MiB = 1024 * 1024
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of it) parts.push(chunk)
  return Buffer.concat(parts)
}

async function node(): Promise<LateralNode> {
  return createNode({
    key: generateDeviceKey(),
    config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], metrics: false },
  })
}

/** Count the bytes `n`'s network gives back. */
function countReleased(n: LateralNode): { bytes: number } {
  const count = { bytes: 0 }
  const release = n.net.releaseReceived.bind(n.net)
  n.net.releaseReceived = (views) => {
    const freed = release(views)
    count.bytes += freed
    return freed
  }
  return count
}

describe('received buffers given back by a download', { timeout: 90_000 }, () => {
  it('a get gives back most of what it received, and a file streamed out as it arrives is intact', async (t) => {
    const seeder = await node()
    t.after(() => seeder.stop())
    const downloader = await node()
    t.after(() => downloader.stop())
    const released = countReleased(downloader)
    await downloader.net.connect(seeder.net.addresses()[0] as string)

    const bytes = randomBytes(16 * MiB)
    const { cid } = await seeder.content.add([{ path: 'f.bin', size: bytes.length, content: [bytes] }])
    await downloader.content.get(cid, { pin: false, timeoutMs: 60_000 })
    assert.equal(sha256(await collect(downloader.content.cat(cid))), sha256(bytes))
    assert.ok(released.bytes >= 8 * MiB, `gave back ${released.bytes} of ${bytes.length} bytes`)

    // Streamed out while it arrives: the reader waits for blocks and is handed their bytes.
    const other = randomBytes(12 * MiB)
    const added = await seeder.content.add([{ path: 'g.bin', size: other.length, content: [other] }], {
      chunker: `size-${256 * 1024}`,
    })
    const before = released.bytes
    const fetching = downloader.content.get(added.cid, { pin: false, timeoutMs: 60_000 })
    fetching.catch(() => {})
    const streamed = await collect(downloader.content.cat(added.cid))
    await fetching
    assert.equal(sha256(streamed), sha256(other), 'every byte streamed out right')
    assert.ok(released.bytes > before, 'blocks nobody else read were given back meanwhile')
  })
})
