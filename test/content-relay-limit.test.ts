/**
 * Bulk data and relay data limits (issue 15), in one process over TCP on loopback: a seeder
 * reachable only through a relay that limits each relayed connection to 4 MiB. The download
 * starts over the relay, stops short of the relay's limit (the relay would reset the connection
 * past it: with the budget turned off this test fails on exactly that), keeps the relayed
 * connection up, and completes from a peer reachable directly once one comes.
 * pickBulkConnection's choice is checked on its own below.
 *
 * (An earlier version of this test was removed as inconsistent: 2.1 to 4.2 MB went over the relay
 * and the relayed connection sometimes vanished. The cause was not the budget: the relay, wanting
 * a reservation of its own that nobody could give, ran libp2p's random walk without pause and the
 * two peers banned it for flooding them with DHT streams; src/net/random-walk-pace.ts.)
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
    // The relay reset nothing: the relayed connection the download started on is still there
    // (without the budget the relay resets it once its 4 MiB are used, and this fails). Each
    // relayed connection has its own allowance: blocks may also use a second one if one opened.
    const first = (await downloader.net.connections()).find(
      (c) => c.peerId === seeder.peerId && c.openedAt === relayed.openedAt,
    )
    assert.ok(first !== undefined && first.kind === 'relayed', 'the first relayed connection is still open')
    assert.ok(overRelay < bytes.length, 'the relay alone did not carry the whole file')
    const relayedConns = first.addresses.filter((a) => a.includes('/p2p-circuit')).length
    assert.ok(
      overRelay <= relayedConns * LIMIT,
      `${overRelay} bytes of blocks over ${relayedConns} relayed connection(s)`,
    )
    console.log(
      `# ${overRelay} bytes of blocks over ${relayedConns} relayed connection(s) of ${LIMIT} bytes before the pause`,
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
