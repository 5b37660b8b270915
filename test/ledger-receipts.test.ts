// Receipts in one process (issue 14): after a transfer both peers hold matching receipts whose
// counts equal what was sent; forged proposals (bad signature, wrong counterparty, wrong counts,
// signed by another device) are refused; an agreement that contradicts its proposal is refused;
// a tampered chain fails verification at the entry that was changed.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import { ask } from '../src/ledger/ask.ts'
import { type ReceiptHalf, signHalf, verifyHalf } from '../src/ledger/index.ts'
import { decodeRequest, encodeMessage, LEDGER_PROTOCOL } from '../src/ledger/wire.ts'
import { waitFor } from '../src/testing/wait.ts'
import { type LedgerPeer, type LedgerPeers, ledgerPeers, randomFile } from './helpers/ledger-peers.ts'

const KiB = 1024
const MiB = 1024 * KiB
const settings = { receiptBytes: 1 * MiB, receiptIntervalMs: 300, countWaitMs: 300, exchangeTimeoutMs: 5_000 }

async function share(from: LedgerPeer, size: number): Promise<CID> {
  const data = randomFile(size)
  const { cid } = await from.content.add([{ path: 'f.bin', size, content: [data] }], { chunker: `size-${256 * KiB}` })
  return CID.parse(cid)
}

const blocksOf = (p: LedgerPeer, peer: string) =>
  p.ledger.summary().counterparties.find((c) => c.peer === peer)?.kinds[0]

describe('ledger receipts in one process', () => {
  let peers: LedgerPeers
  let a: LedgerPeer
  let b: LedgerPeer
  before(async () => {
    peers = ledgerPeers()
    a = await peers.add({ ledger: settings })
    b = await peers.add({ ledger: settings })
    await peers.connect(b, a)
  })
  after(async () => {
    await peers.stop()
  })

  it('after a transfer both hold matching receipts whose counts equal the bytes sent', async () => {
    const root = await share(a, 3 * MiB + 1234)
    const result = await b.content.fetch(root)
    assert.ok(result.fetchedBytes > 3 * MiB)
    const served = a.content.stats().served.find((s) => s.peerId === b.net.peerId)?.bytes
    assert.equal(served, result.fetchedBytes, 'the server wrote what the downloader stored')
    // The last receipt comes at most one interval after the last block.
    const atA = await waitFor(() => (blocksOf(a, b.net.peerId)?.given === served ? blocksOf(a, b.net.peerId) : false), {
      what: "A's receipt for all it served",
      timeoutMs: 10_000,
    })
    const atB = await waitFor(() => blocksOf(b, a.net.peerId), { what: "B's receipt" })
    assert.deepEqual(atA, { kind: 'blocks', given: served, received: 0, held: 0 })
    assert.deepEqual(atB, { kind: 'blocks', given: 0, received: served, held: 0 })
    // Both halves of the newest receipt are the same receipt, seen from each side.
    const [mine] = (await a.ledger.receiptsWith(b.net.peerId)).receipts
    const [theirs] = (await b.ledger.receiptsWith(a.net.peerId)).receipts
    assert.ok(mine?.confirmed && theirs?.confirmed)
    assert.equal(mine?.role, 'proposed')
    assert.equal(theirs?.role, 'agreed')
    assert.equal(mine?.counterpartyCid, theirs?.cid)
    assert.equal(theirs?.counterpartyCid, mine?.cid)
    assert.equal(mine?.given, theirs?.received)
    // Receipts were made every MiB or so, not per block: fewer receipts than blocks.
    const all = (await a.ledger.receiptsWith(b.net.peerId)).receipts
    assert.ok(all.length >= 1 && all.length <= 6, `${all.length} receipts`)
    // Reputation as each sees it: B gave A nothing and took 3 MiB; A gave B that.
    const repOfB = await a.ledger.reputation(b.net.peerId)
    assert.equal(repOfB.standing, 'free-rider')
    assert.equal(repOfB.took, served)
    const repOfA = await b.ledger.reputation(a.net.peerId, { explain: true })
    assert.equal(repOfA.standing, 'contributor')
    assert.equal(repOfA.gave, served)
    assert.deepEqual(
      repOfA.explanation?.gave.map((p) => p.via),
      [[]],
    )
  })

  it('forged proposals are refused: bad signature, wrong counterparty, wrong counts, another signer', async () => {
    const raw = await peers.add({ ledger: settings, noLedger: true })
    const stranger = await peers.add({ ledger: settings, noLedger: true })
    await peers.connect(raw, a)
    // raw downloads 1 MiB from A so that A has something to count.
    const root = await share(a, 1 * MiB)
    await raw.content.fetch(root)
    const half = (over: Partial<ReceiptHalf>): ReceiptHalf => ({
      dev: raw.net.peerId,
      seq: 1,
      prev: null,
      peer: a.net.peerId,
      kind: 'blocks',
      out: 0,
      in: 0,
      t: Date.now(),
      ...over,
    })
    const propose = async (bytes: Uint8Array) =>
      ask(raw.net, a.net.peerId, { t: 'propose', half: bytes }, AbortSignal.timeout(5_000))

    const good = await signHalf(raw.signer, half({}))
    const tampered = good.bytes.slice()
    tampered[10] = (tampered[10] as number) ^ 1 // inside the signature
    const bad = await propose(tampered)
    assert.equal(bad.t, 'refused')
    assert.equal(bad.t === 'refused' && bad.code, 'invalid')

    const wrongPeer = await propose((await signHalf(raw.signer, half({ peer: stranger.net.peerId }))).bytes)
    assert.equal(wrongPeer.t === 'refused' && wrongPeer.code, 'parties')

    // Claims raw gave A 5 MiB: A received nothing from raw.
    const inflatedHalf = await signHalf(raw.signer, half({ out: 5 * MiB }))
    const inflated = await propose(inflatedHalf.bytes)
    assert.equal(inflated.t === 'refused' && inflated.code, 'counts')
    assert.equal(inflated.t === 'refused' && inflated.in, 0, 'A answers with what it counted')

    // Signed by stranger, sent by raw.
    const other = await signHalf(stranger.signer, { ...half({}), dev: stranger.net.peerId })
    const notYours = await propose(other.bytes)
    assert.equal(notYours.t === 'refused' && notYours.code, 'parties')

    // A second half at position 1 (raw already signed one, refused for its counts) is a fork.
    const forked = await propose((await signHalf(raw.signer, half({ in: 1 * MiB }))).bytes)
    assert.equal(forked.t === 'refused' && forked.code, 'fork')
    assert.equal(a.ledger.forks()[0]?.offender, raw.net.peerId)
    assert.equal((await a.ledger.reputation(raw.net.peerId)).standing, 'refused')

    // An honest proposal from an honest peer that got 1 MiB from A is agreed. A file only A holds:
    // `root` is raw's too by now, and a download of it found raw through the DHT and took it all
    // from raw once in CI (A then counted nothing and refused).
    const honest = await peers.add({ ledger: settings, noLedger: true })
    await peers.connect(honest, a)
    await honest.content.fetch(await share(a, 1 * MiB))
    const fair = await ask(
      honest.net,
      a.net.peerId,
      {
        t: 'propose',
        half: (await signHalf(honest.signer, { ...half({ in: 1 * MiB }), dev: honest.net.peerId })).bytes,
      },
      AbortSignal.timeout(5_000),
    )
    assert.equal(fair.t, 'agree', JSON.stringify(fair))
    const agreement = verifyHalf(fair.t === 'agree' ? fair.half : new Uint8Array())
    assert.equal(agreement.payload.out, 1 * MiB)

    // The same counts again (its next position): nothing new, so nothing is signed. A peer cannot
    // make another's chain grow without giving or taking anything.
    const first = verifyHalf(fair.t === 'agree' ? fair.half : new Uint8Array()).payload.link
    const again = await ask(
      honest.net,
      a.net.peerId,
      {
        t: 'propose',
        half: (
          await signHalf(honest.signer, {
            ...half({ in: 1 * MiB }),
            dev: honest.net.peerId,
            seq: 2,
            prev: first ?? null,
          })
        ).bytes,
      },
      AbortSignal.timeout(5_000),
    )
    assert.equal(again.t === 'refused' && again.code, 'stale', JSON.stringify(again))
  })

  it('an agreement that contradicts the proposal is refused: the proposal stays unconfirmed', async () => {
    const liar = await peers.add({ ledger: settings, noLedger: true })
    await peers.connect(liar, a)
    await liar.content.fetch(await share(a, 512 * KiB))
    // liar answers every proposal with an agreement that says it received half of it.
    await liar.net.handle(LEDGER_PROTOCOL, async (stream) => {
      for await (const frame of readFrames(stream, 64 * KiB)) {
        const request = decodeRequest(frame)
        if (request.t !== 'propose') break
        const p = verifyHalf(request.half)
        const lie = await signHalf(liar.signer, {
          dev: liar.net.peerId,
          seq: 1,
          prev: null,
          peer: p.payload.dev,
          kind: 'blocks',
          out: p.payload.in,
          in: Math.floor(p.payload.out / 2),
          t: Date.now(),
          link: p.cid,
        })
        await stream.write(encodeFrame(encodeMessage({ t: 'agree', half: lie.bytes })))
        break
      }
      await stream.close()
    })
    const outcome = await a.ledger.settle(liar.net.peerId)
    assert.equal(outcome?.status, 'contradicted')
    const [entry] = (await a.ledger.receiptsWith(liar.net.peerId)).receipts
    assert.equal(entry?.confirmed, false)
    assert.equal(a.ledger.summary().counterparties.find((c) => c.peer === liar.net.peerId)?.receipts, 0)
  })

  it('a peer that will not co-sign what it received is a non-signer: the lowest weight, served after those that do', async () => {
    const own = ledgerPeers()
    try {
      const strict = { ...settings, slackBytes: 256 * KiB }
      const seeder = await own.add({ ledger: strict })
      const signer = await own.add({ ledger: strict })
      const taker = await own.add({ noLedger: true }) // downloads, never answers a proposal
      await own.connect(signer, seeder)
      await own.connect(taker, seeder)
      const root = await share(seeder, 1 * MiB)
      await signer.content.fetch(root)
      await taker.content.fetch(root)
      await waitFor(async () => (await seeder.ledger.reputation(taker.net.peerId)).standing === 'non-signer', {
        what: 'the taker judged a non-signer',
        timeoutMs: 10_000,
      })
      const servedToSigner = seeder.content.stats().served.find((x) => x.peerId === signer.net.peerId)?.bytes
      await waitFor(() => blocksOf(seeder, signer.net.peerId)?.given === servedToSigner, {
        what: 'the signer’s receipt',
      })
      const signerStanding = (await seeder.ledger.reputation(signer.net.peerId)).standing
      assert.equal(signerStanding, 'free-rider', 'it took without giving, but co-signed: not a non-signer')
      const w = seeder.ledger.contribution.weight
      assert.equal(w(taker.net.peerId), 1)
      assert.ok(w(signer.net.peerId) > w(taker.net.peerId))
      // Its proposals stay unconfirmed in the seeder's chain.
      const [unanswered] = (await seeder.ledger.receiptsWith(taker.net.peerId)).receipts
      assert.equal(unanswered?.confirmed, false)
    } finally {
      await own.stop()
    }
  })

  it('a tampered chain fails verification at the entry changed, a true one verifies', async () => {
    const honest = await a.ledger.verify(b.net.peerId)
    assert.equal(honest.valid, true, honest.error)
    assert.ok(honest.verified >= 1 && honest.verified === honest.length)
    assert.equal(honest.complete, honest.verified)

    // A peer serving a chain whose second entry does not link to the first.
    const forger = await peers.add({ ledger: settings, noLedger: true })
    await peers.connect(forger, a)
    const h = (seq: number, prev: CID | null) =>
      signHalf(forger.signer, {
        dev: forger.net.peerId,
        seq,
        prev,
        peer: a.net.peerId,
        kind: 'blocks',
        out: seq,
        in: 0,
        t: Date.now(),
      })
    const first = await h(1, null)
    const second = await h(2, first.cid)
    const unlinked = await h(3, first.cid) // should link to `second`
    await forger.net.handle(LEDGER_PROTOCOL, async (stream) => {
      for await (const frame of readFrames(stream, 64 * KiB)) {
        const request = decodeRequest(frame)
        const entries = [first, second, unlinked]
          .slice(request.t === 'chain' ? request.from - 1 : 0)
          .map((x) => ({ h: x.bytes }))
        await stream.write(encodeFrame(encodeMessage({ t: 'page', length: 3, entries })))
        break
      }
      await stream.close()
    })
    const check = await a.ledger.verify(forger.net.peerId)
    assert.equal(check.valid, false)
    assert.equal(check.verified, 2)
    assert.match(check.error ?? '', /entry 3: "prev" is not the CID of the half before/)
  })
})
