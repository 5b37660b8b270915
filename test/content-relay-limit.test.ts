/**
 * Large transfers never run through a relay beyond what it allows (issue 15): a seeder reachable
 * only through a relay that limits each relayed connection to 3 MiB. The downloader asks for no
 * more than the relay allows (less a reserve for messages), so the relay never resets the
 * connection; once a direct connection exists the download moves to it and completes. Before,
 * the blocks stream ran into the relay's limit, the relay reset the connection, and the seeder
 * was dropped from the download for good. In one process over TCP on loopback.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type { FetchProgress } from '../src/content/fetch-progress.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { pickBulkConnection } from '../src/net/protocols.ts'
import type { ConfigOverrides } from '../src/node/config.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'
import { waitFor } from '../src/testing/wait.ts'

const MiB = 1024 * 1024
const LIMIT = 4 * MiB
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of it) parts.push(chunk)
  return Buffer.concat(parts)
}

async function node(config: ConfigOverrides = {}): Promise<LateralNode> {
  return createNode({
    key: generateDeviceKey(),
    config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], metrics: false, ...config },
  })
}

describe('bulk data and relay data limits', { timeout: 90_000 }, () => {
  it('a download stays within the relay data limit; the rest comes from a peer reachable directly', async (t) => {
    const relay = await node({ relay: { server: true, dataLimitBytes: LIMIT } })
    t.after(() => relay.stop())
    // Seeder and downloader listen on nothing but the relay: every connection between them is
    // relayed (as between two hard NATs), whoever dials.
    const hidden = { listen: [], relay: { reservations: 1 } }
    const seeder = await node(hidden)
    t.after(() => seeder.stop())
    const downloader = await node(hidden)
    t.after(() => downloader.stop())
    const circuits: string[] = []
    for (const n of [seeder, downloader]) {
      await n.net.connect(relay.net.addresses()[0] as string)
      circuits.push(
        await waitFor(() => n.net.addresses().find((a) => a.includes('/p2p-circuit')), {
          timeoutMs: 10_000,
          what: 'a relay reservation',
        }),
      )
    }
    const bytes = randomBytes(8 * MiB)
    const { cid } = await seeder.content.add([{ path: 'f.bin', size: bytes.length, content: [bytes] }], {
      chunker: `size-${256 * 1024}`,
    })

    const relayed = await downloader.net.connect(circuits[0] as string)
    assert.equal(relayed.kind, 'relayed')
    let last: FetchProgress | undefined
    const fetching = downloader.content.get(cid, { onProgress: (p) => (last = p), timeoutMs: 60_000 })
    fetching.catch(() => {})

    // Over the relay: some of the file, never more than the relay allows less the reserve.
    await waitFor(() => ((last?.fetchedBytes ?? 0) >= MiB / 2 ? true : undefined), {
      timeoutMs: 20_000,
      what: 'the first blocks over the relay',
    })
    await waitFor(
      async () => {
        const before = last?.fetchedBytes ?? 0
        await new Promise((r) => setTimeout(r, 1_000))
        return last?.fetchedBytes === before ? true : undefined
      },
      { timeoutMs: 20_000, what: 'the download to pause at the relay limit' },
    )
    const overRelay = last?.fetchedBytes ?? 0
    assert.ok(overRelay <= LIMIT - MiB, `fetched ${overRelay} bytes over a ${LIMIT}-byte relay`)
    // The relay did not reset the connection: it is still there, and still the only one.
    const still = (await downloader.net.connections()).filter((c) => c.peerId === seeder.peerId)
    assert.deepEqual(
      still.map((c) => c.kind),
      ['relayed'],
    )

    // A peer with the same content, reachable directly, comes: the download completes from it.
    const open = await node()
    t.after(() => open.stop())
    await open.content.add([{ path: 'f.bin', size: bytes.length, content: [bytes] }], { chunker: `size-${256 * 1024}` })
    await downloader.net.connect(open.net.addresses()[0] as string)
    const result = await fetching
    const fromOpen = result.peers.find((p) => p.peerId === open.peerId)?.bytes ?? 0
    assert.ok(fromOpen >= bytes.length - overRelay - MiB, `the rest came from the open peer (${fromOpen} bytes)`)
    const back = await collect(downloader.content.cat(cid))
    assert.equal(sha256(back), sha256(bytes))
  })

  it('pickBulkConnection: direct first, then an unlimited relay, then a limited one only above the reserve', () => {
    const conn = (addr: string, bytes?: bigint) => ({
      remoteAddr: { toString: () => addr },
      ...(bytes === undefined ? {} : { limits: { bytes } }),
    })
    const direct = conn('/ip4/1.2.3.4/tcp/1')
    const openRelay = conn('/ip4/5.6.7.8/tcp/1/p2p/R/p2p-circuit')
    const limited = conn('/ip4/5.6.7.8/tcp/1/p2p/R/p2p-circuit', BigInt(4 * MiB))
    const spent = conn('/ip4/5.6.7.9/tcp/1/p2p/S/p2p-circuit', BigInt(MiB / 2))
    // biome-ignore lint/suspicious/noExplicitAny: minimal connection shapes
    const pick = (cs: any[]) => pickBulkConnection(cs)
    assert.equal(pick([limited, openRelay, direct]), direct)
    assert.equal(pick([limited, openRelay]), openRelay)
    assert.equal(pick([spent, limited]), limited)
    assert.equal(pick([spent]), undefined)
  })
})
