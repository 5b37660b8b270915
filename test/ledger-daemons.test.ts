// The ledger across real daemon processes, through the CLI (issue 14): after a transfer both
// daemons hold matching receipts whose byte counts equal what was sent; forged receipts from
// another process (bad signature, wrong counterparty, wrong counts) are refused; a third
// daemon fetches and verifies a chain (`lateral ledger verify`, exit 0), and a forged chain
// fails verification (exit 31); `lateral reputation --explain` shows where contribution came from.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { MemoryDatastore } from 'datastore-core'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import { silentLogger } from '../src/core/logger.ts'
import { createDeviceSigner, type DeviceSigner } from '../src/identity/device-signer.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { ask } from '../src/ledger/ask.ts'
import { type ReceiptHalf, signHalf } from '../src/ledger/index.ts'
import type { LedgerSummary, PeerReceipts, ReputationView, VerifyView } from '../src/ledger/views.ts'
import { decodeRequest, encodeMessage, LEDGER_PROTOCOL } from '../src/ledger/wire.ts'
import { createNet, type Net } from '../src/net/index.ts'
import { defaultConfig } from '../src/node/config.ts'
import { createTestnet, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

const MiB = 1024 * 1024
const parse = <T>(stdout: string) => JSON.parse(stdout) as T

describe('ledger across daemons', () => {
  let net: Testnet
  let dir: string
  let stranger: Stranger
  const strangers: Stranger[] = []
  let fetchedBytes = 0
  before(async () => {
    net = await createTestnet(3, {
      bootstrap: 'first',
      config: { ledger: { receiptBytes: 1 * MiB, receiptIntervalMs: 500, countWaitMs: 300 } },
    })
    dir = await mkdtemp(join(tmpdir(), 'lateral-ledger-'))
    stranger = await newStranger()
    strangers.push(stranger)
  })
  after(async () => {
    for (const s of strangers) await s.net.stop()
    await net?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  const peer = (i: number) => net.daemons[i]?.peerId as string

  it('after a transfer both daemons hold matching receipts whose byte counts equal what was sent', async () => {
    const file = join(dir, 'three-mib.bin')
    await writeFile(file, randomBytes(3 * MiB + 4321))
    const added = await net.cli(0, ['add', file, '--json'])
    assert.equal(added.code, 0, added.stderr)
    const { cid } = parse<{ cid: string }>(added.stdout)
    const got = await net.cli(1, ['get', cid, '-o', join(dir, 'out.bin'), '--json'])
    assert.equal(got.code, 0, got.stderr)
    fetchedBytes = parse<{ fetchedBytes: number }>(got.stdout).fetchedBytes
    assert.ok(fetchedBytes > 3 * MiB)

    const counterparty = async (i: number, other: string) =>
      parse<LedgerSummary>((await net.cli(i, ['ledger', '--json'])).stdout).counterparties.find((c) => c.peer === other)
    const atSeeder = await waitFor(
      async () => ((await counterparty(0, peer(1)))?.given === fetchedBytes ? counterparty(0, peer(1)) : false),
      { what: "the seeder's receipt for every byte it sent", timeoutMs: 20_000, intervalMs: 300 },
    )
    const atGetter = await waitFor(
      async () => ((await counterparty(1, peer(0)))?.received === fetchedBytes ? counterparty(1, peer(0)) : false),
      { what: "the downloader's receipt", timeoutMs: 20_000, intervalMs: 300 },
    )
    assert.equal(atSeeder?.received, 0)
    assert.equal(atGetter?.given, 0)
    assert.ok((atSeeder?.receipts ?? 0) >= 1 && atSeeder?.unconfirmed === 0)

    // The newest receipt, from each side: one receipt, each half naming the other.
    const mine = parse<PeerReceipts>((await net.cli(0, ['ledger', peer(1), '--json'])).stdout).receipts[0]
    const theirs = parse<PeerReceipts>((await net.cli(1, ['ledger', peer(0), '--json'])).stdout).receipts[0]
    assert.equal(mine?.given, fetchedBytes)
    assert.equal(theirs?.received, fetchedBytes)
    assert.equal(mine?.counterpartyCid, theirs?.cid)
    assert.equal(theirs?.counterpartyCid, mine?.cid)
    assert.equal(mine?.role, 'proposed')
    assert.equal(theirs?.role, 'agreed')

    const human = await net.cli(0, ['ledger'])
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /Chain of 12D3KooW\S+: head \d+ \(b\S+\), \d+ entries/)
    assert.match(human.stdout, /Fork proofs: none/)
  })

  it('forged receipts from another process are refused: bad signature, wrong counterparty, wrong counts', async () => {
    await stranger.net.connect(net.daemons[0]?.address as string)
    const half = (over: Partial<ReceiptHalf>): ReceiptHalf => ({
      dev: stranger.net.peerId,
      seq: 1,
      prev: null,
      peer: peer(0),
      kind: 'blocks',
      out: 0,
      in: 0,
      t: Date.now(),
      ...over,
    })
    const propose = async (bytes: Uint8Array) => {
      const answer = await ask(stranger.net, peer(0), { t: 'propose', half: bytes }, AbortSignal.timeout(10_000))
      return answer.t === 'refused' ? answer.code : answer.t
    }
    const signed = await signHalf(stranger.signer, half({}))
    const badSignature = signed.bytes.slice()
    badSignature[20] = (badSignature[20] as number) ^ 0x40
    assert.equal(await propose(badSignature), 'invalid')
    assert.equal(await propose((await signHalf(stranger.signer, half({ peer: peer(2) }))).bytes), 'parties')
    // It claims it gave the seeder 2 MiB and got 3 MiB: the seeder counted neither.
    assert.equal(await propose((await signHalf(stranger.signer, half({ out: 2 * MiB, in: 3 * MiB }))).bytes), 'counts')
    // Nothing of these reached the seeder's chain.
    const receipts = await net.cli(0, ['ledger', stranger.net.peerId, '--json'])
    assert.equal(receipts.code, 0, receipts.stderr)
    assert.deepEqual(parse<PeerReceipts>(receipts.stdout).receipts, [])
  })

  it('a third daemon verifies a chain (exit 0); a forked chain is proven (exit 30), a broken one fails (exit 31)', async () => {
    const ok = await net.cli(2, ['ledger', 'verify', peer(0), '--json'])
    assert.equal(ok.code, 0, ok.stderr)
    const v = parse<VerifyView>(ok.stdout)
    assert.equal(v.valid, true)
    assert.ok(v.verified >= 1 && v.verified === v.length && v.complete === v.verified)
    const human = await net.cli(2, ['ledger', 'verify', peer(0)])
    assert.match(human.stdout, /Valid: every entry checked, no fork known\./)

    // The stranger's chain starts with another half than the one it proposed at position 1 (the
    // seeder kept that one, though it refused its counts): a fork, proven from the two halves.
    await serveChain(stranger, [await signHalf(stranger.signer, baseHalf(stranger.net.peerId, peer(0), 1))])
    const fork = await net.cli(0, ['ledger', 'verify', stranger.net.peerId])
    assert.equal(fork.code, 30, fork.stderr)
    assert.match(fork.stdout, /FORK: 12D3KooW\S+ signed two halves at position 1: /)
    assert.match((await net.cli(0, ['ledger'])).stdout, /Fork proofs: 1/)
    const refused = parse<ReputationView>((await net.cli(0, ['reputation', stranger.net.peerId, '--json'])).stdout)
    assert.equal(refused.standing, 'refused')

    // Another peer serves a chain whose second half does not link to its first.
    const other = await newStranger()
    strangers.push(other)
    await other.net.connect(net.daemons[0]?.address as string)
    const first = await signHalf(other.signer, baseHalf(other.net.peerId, peer(0), 1))
    const elsewhere = await signHalf(other.signer, baseHalf(other.net.peerId, peer(0), 2))
    const broken = await signHalf(other.signer, {
      ...baseHalf(other.net.peerId, peer(0), 3),
      seq: 2,
      prev: elsewhere.cid,
    })
    await serveChain(other, [first, broken])
    const bad = await net.cli(0, ['ledger', 'verify', other.net.peerId])
    assert.equal(bad.code, 31, bad.stderr)
    assert.match(bad.stdout, /INVALID: entry 2: "prev" is not the CID of the half before/)
  })

  it('reputation explains where contribution came from', async () => {
    const rep = await net.cli(1, ['reputation', peer(0), '--explain', '--json'])
    assert.equal(rep.code, 0, rep.stderr)
    const r = parse<ReputationView>(rep.stdout)
    assert.equal(r.standing, 'contributor')
    assert.equal(r.gave, fetchedBytes)
    assert.deepEqual(
      r.explanation?.gave.map((p) => [p.via, p.bytes]),
      [[[], fetchedBytes]],
    )
    const text = await net.cli(1, ['reputation', peer(0), '--explain'])
    assert.match(text.stdout, /contributor \(weight [\d.]+ under contention; a newcomer has 4\)/)
    assert.match(text.stdout, /Gave this node:\n\s+[\d.]+ MiB\s+direct/)
  })
})

interface Stranger {
  net: Net
  signer: DeviceSigner
}

/** Another process's peer, not a daemon: it speaks /lateral/ledger/1.0.0 by hand over TCP. */
async function newStranger(): Promise<Stranger> {
  const key = generateDeviceKey()
  const d = defaultConfig()
  const strangerNet = createNet(
    {
      seed: key.seed,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: [],
      mdns: false,
      dhtMode: d.dht.mode,
      encrypters: d.encrypters,
      maxConnections: d.connections.max,
      maxIncomingPendingConnections: d.connections.maxIncomingPending,
      dialTimeoutMs: d.connections.dialTimeoutMs,
      autoDialTarget: 0,
      metrics: false,
    },
    { datastore: new MemoryDatastore(), logger: silentLogger },
  )
  await strangerNet.start()
  return { net: strangerNet, signer: createDeviceSigner(key) }
}

/** Answer chain requests with these halves (as the stranger's whole chain). */
async function serveChain(s: Stranger, halves: Array<{ bytes: Uint8Array }>): Promise<void> {
  await s.net.handle(LEDGER_PROTOCOL, async (stream) => {
    for await (const frame of readFrames(stream, 64 * 1024)) {
      const request = decodeRequest(frame)
      const entries = request.t === 'chain' ? halves.slice(request.from - 1).map((x) => ({ h: x.bytes })) : []
      await stream.write(encodeFrame(encodeMessage({ t: 'page', length: halves.length, entries })))
      break
    }
    await stream.close()
  })
}

/** A half by `dev` for `peer` at position 1 (`out` makes halves differ). */
function baseHalf(dev: string, peer: string, out: number): ReceiptHalf {
  return { dev, seq: 1, prev: null, peer, kind: 'blocks', out, in: 0, t: Date.now() }
}
