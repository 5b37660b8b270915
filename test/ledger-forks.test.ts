// Forks (issue 14): a test peer that signs two halves with one sequence number (one version of
// its history for each of two peers it served) is caught. A peer that holds one half finds the
// other in the forker's chain, makes the proof and gossips it; a third peer that never dealt with
// the forker receives the proof, checks it and refuses the forker (and the other device of its
// identity) within 30 s. With receipts gossiped, any peer that sees both halves catches it alone.
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import { ask } from '../src/ledger/ask.ts'
import { type SignedHalf, signHalf, verifyForkProof, verifyHalf } from '../src/ledger/index.ts'
import { decodeRequest, encodeMessage, FORKS_TOPIC, LEDGER_PROTOCOL, RECEIPTS_TOPIC } from '../src/ledger/wire.ts'
import { waitFor } from '../src/testing/wait.ts'
import { IdentityWorld, type LedgerPeer, type LedgerPeers, ledgerPeers, randomFile } from './helpers/ledger-peers.ts'

const KiB = 1024

/**
 * The forker serves `a` and `b` a file, then proposes to each a receipt at position 1. The answers
 * are returned; with `agreeBoth` both must agree (neither knew of the other half).
 */
async function forkWith(
  forker: LedgerPeer,
  a: LedgerPeer,
  b: LedgerPeer,
  identity: string,
  agreeBoth = true,
  between: () => Promise<void> = async () => {},
) {
  // A file each: had b fetched a's file, it could have taken blocks from a, and then the
  // forker's count of what it served b would not be b's count of what it got from the forker.
  const serve = async (peer: LedgerPeer) => {
    const data = randomFile(512 * KiB)
    const { cid } = await forker.content.add([{ path: 'f.bin', size: data.length, content: [data] }], {
      chunker: `size-${128 * KiB}`,
    })
    await peer.content.fetch(CID.parse(cid))
  }
  await serve(a)
  await serve(b)
  const servedTo = (p: LedgerPeer) => forker.content.stats().served.find((s) => s.peerId === p.net.peerId)?.bytes ?? 0
  const agreed: Array<{ proposal: SignedHalf; agreement: SignedHalf }> = []
  for (const peer of [a, b]) {
    if (peer === b) await between()
    const proposal = await signHalf(forker.signer, {
      dev: forker.net.peerId,
      id: identity,
      seq: 1, // the same position for both: two versions of its history
      prev: null,
      peer: peer.net.peerId,
      kind: 'blocks',
      out: servedTo(peer),
      in: 0,
      t: Date.now(),
    })
    const answer = await ask(
      forker.net,
      peer.net.peerId,
      { t: 'propose', half: proposal.bytes },
      AbortSignal.timeout(5_000),
    )
    if (!agreeBoth && peer === b) {
      assert.equal(answer.t === 'refused' && answer.code, 'fork', JSON.stringify(answer))
      break
    }
    assert.equal(answer.t, 'agree', JSON.stringify(answer))
    agreed.push({ proposal, agreement: verifyHalf(answer.t === 'agree' ? answer.half : new Uint8Array()) })
  }
  return agreed as [(typeof agreed)[0], (typeof agreed)[0]]
}

/** The forker answers chain requests with the version it showed `b`, whoever asks. */
async function serveChain(forker: LedgerPeer, shown: { proposal: SignedHalf; agreement: SignedHalf }) {
  await forker.net.handle(LEDGER_PROTOCOL, async (stream) => {
    for await (const frame of readFrames(stream, 64 * KiB)) {
      const request = decodeRequest(frame)
      const entries =
        request.t === 'chain' && request.from === 1 ? [{ h: shown.proposal.bytes, o: shown.agreement.bytes }] : []
      await stream.write(encodeFrame(encodeMessage({ t: 'page', length: 1, entries })))
      break
    }
    await stream.close()
  })
}

describe('ledger forks', () => {
  let peers: LedgerPeers
  beforeEach(() => {
    peers = ledgerPeers()
  })
  afterEach(async () => {
    await peers.stop()
  })

  it('a peer finds the other half in the forker’s chain; a third peer receives the proof and refuses the forker within 30 s', async () => {
    const settings = { syncIntervalMs: 300, announceReceipts: false }
    const a = await peers.add({ ledger: settings })
    const b = await peers.add({ ledger: settings })
    const c = await peers.add({ ledger: settings })
    const identity = await IdentityWorld.newId()
    const forker = await peers.add({ noLedger: true, identity })
    const sibling = await peers.add({ noLedger: true, identity }) // another device of the forker's identity
    await peers.connect(forker, a)
    await peers.connect(forker, b)
    await peers.connect(c, a)
    await peers.connect(c, b)
    await peers.connect(sibling, c)
    await waitFor(() => a.net.pubsub.subscribers(FORKS_TOPIC).includes(c.net.peerId), { what: 'C on the forks topic' })
    const c0 = c.content
    const theirFile = randomFile(64 * KiB)
    const { cid: cFile } = await c0.add([{ path: 'c.bin', size: theirFile.length, content: [theirFile] }])
    assert.equal(c.ledger.contribution.refuses(forker.net.peerId), false)

    const started = Date.now()
    const [withA, withB] = await forkWith(forker, a, b, identity)
    await serveChain(forker, withB)
    // A holds the half the forker signed for it; its next sync of the forker's chain finds the other.
    const proof = await waitFor(() => c.ledger.forks()[0], { what: 'the proof at C', timeoutMs: 30_000 })
    const ms = Date.now() - started
    assert.ok(ms < 30_000, `${ms} ms`)
    assert.equal(proof.offender, forker.net.peerId)
    assert.equal(proof.seq, 1)
    assert.deepEqual([...proof.halves].sort(), [withA.proposal.cid.toString(), withB.proposal.cid.toString()].sort())
    // The proof stands alone: anyone checks it from its bytes.
    const checked = verifyForkProof(Buffer.from(proof.proof, 'base64'))
    assert.equal(checked.offender, forker.net.peerId)
    assert.equal(checked.identity, identity)
    // C never dealt with the forker and refuses it: its standing, its upload turns, its blocks.
    assert.equal(c.ledger.contribution.refuses(forker.net.peerId), true)
    assert.equal((await c.ledger.reputation(forker.net.peerId)).standing, 'refused')
    await assert.rejects(forker.content.fetch(CID.parse(cFile), { timeoutMs: 1_500 }))
    // ...and the other device of the same identity, which C knows to be one of its devices.
    assert.equal(c.ledger.contribution.refuses(sibling.net.peerId), true)
    // A and B refuse it too.
    await waitFor(
      () => a.ledger.contribution.refuses(forker.net.peerId) && b.ledger.contribution.refuses(forker.net.peerId),
      {
        what: 'A and B refuse the forker',
      },
    )
    // A refused forker cannot get a new receipt signed.
    const again = await signHalf(forker.signer, {
      dev: forker.net.peerId,
      seq: 2,
      prev: withA.proposal.cid,
      peer: c.net.peerId,
      kind: 'blocks',
      out: 0,
      in: 0,
      t: Date.now(),
    })
    const answer = await ask(forker.net, c.net.peerId, { t: 'propose', half: again.bytes }, AbortSignal.timeout(5_000))
    assert.equal(answer.t === 'refused' && answer.code, 'refused')
  })

  it('with receipts gossiped, the second version is refused on the spot and every peer learns the proof', async () => {
    const a = await peers.add({})
    const b = await peers.add({})
    const c = await peers.add({})
    const forker = await peers.add({ noLedger: true })
    await peers.connect(forker, a)
    await peers.connect(forker, b)
    await peers.connect(c, a)
    await peers.connect(c, b)
    await waitFor(
      () =>
        a.net.pubsub.subscribers(RECEIPTS_TOPIC).includes(c.net.peerId) &&
        b.net.pubsub.subscribers(RECEIPTS_TOPIC).includes(c.net.peerId),
      { what: 'C on the receipts topic' },
    )
    // B learns A's receipt from gossip before the forker proposes the other version to it.
    const identity = await IdentityWorld.newId()
    let heard = false
    b.net.addEventListener('pubsub:message', (evt) => {
      if (evt.detail.topic === RECEIPTS_TOPIC && evt.detail.from === a.net.peerId) heard = true
    })
    const [withA] = await forkWith(forker, a, b, identity, false, () =>
      waitFor(() => heard, { what: "A's receipt gossiped to B" }).then(() => {}),
    )
    assert.ok(withA !== undefined)
    assert.equal(b.ledger.forks()[0]?.offender, forker.net.peerId)
    const proof = await waitFor(() => c.ledger.forks()[0], { what: 'the proof at C', timeoutMs: 30_000 })
    assert.equal(proof.offender, forker.net.peerId)
    assert.equal(c.ledger.contribution.refuses(forker.net.peerId), true)
  })
})
