// Contention, measured (issue 14): one seeder limited to a rate, three downloaders at once, two
// of which served the seeder before (their receipts give them reputation there) and one that
// never served anyone. While they compete the contributors each get at least twice the
// free-rider's bytes; the free-rider still finishes. The same race with the seeder's ledger
// unplugged shares the rate about equally: what the test measures is the ledger's doing. The
// rate limit, not timing luck, decides the shares: the seeder's upload turns are ordered by
// weight (start-time fair queueing), so the ratio holds on any machine that can move 2 MiB/s.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import { waitFor } from '../src/testing/wait.ts'
import { type LedgerPeer, type LedgerPeers, ledgerPeers, randomFile } from './helpers/ledger-peers.ts'

const KiB = 1024
const MiB = 1024 * KiB
const RATE = 2 * MiB
const ledger = {
  receiptBytes: 256 * KiB,
  receiptIntervalMs: 300,
  reputationUnitBytes: 1 * MiB,
  reputationRefreshMs: 100,
}

async function share(peer: LedgerPeer, size: number): Promise<CID> {
  const data = randomFile(size)
  const { cid } = await peer.content.add([{ path: 'f.bin', size, content: [data] }], { chunker: `size-${64 * KiB}` })
  return CID.parse(cid)
}

/** All three fetch `root` at once; the seeder's bytes served to each when the first contributor is done. */
async function race(seeder: LedgerPeer, contributors: LedgerPeer[], freeRider: LedgerPeer, root: CID) {
  const servedTo = (p: LedgerPeer) => seeder.content.stats().served.find((s) => s.peerId === p.net.peerId)?.bytes ?? 0
  const before = new Map([...contributors, freeRider].map((p) => [p, servedTo(p)]))
  const fetches = [...contributors, freeRider].map((p) => p.content.fetch(root))
  await Promise.race(fetches.slice(0, contributors.length))
  const during = new Map([...contributors, freeRider].map((p) => [p, servedTo(p) - (before.get(p) ?? 0)]))
  await Promise.all(fetches)
  return during
}

describe('ledger: contention', () => {
  let peers: LedgerPeers
  let seeder: LedgerPeer
  let contributors: LedgerPeer[]
  let freeRider: LedgerPeer
  before(async () => {
    peers = ledgerPeers()
    seeder = await peers.add({ ledger, content: { uploadLimit: RATE } })
    contributors = [await peers.add({ ledger }), await peers.add({ ledger })]
    freeRider = await peers.add({ ledger })
    for (const p of [...contributors, freeRider]) await peers.connect(p, seeder)
    // The contributors serve the seeder 4 MiB each, co-signed.
    for (const c of contributors) await seeder.content.fetch(await share(c, 4 * MiB))
    for (const c of contributors) {
      await waitFor(async () => (await seeder.ledger.reputation(c.net.peerId)).gave >= 4 * MiB, {
        what: 'receipts for what the contributors gave',
      })
    }
  })
  after(async () => {
    await peers.stop()
  })

  it('contributors each get at least twice the free-rider’s share while they compete; the free-rider finishes', async (t) => {
    for (const c of contributors) assert.equal((await seeder.ledger.reputation(c.net.peerId)).standing, 'contributor')
    assert.equal((await seeder.ledger.reputation(freeRider.net.peerId)).standing, 'newcomer')
    const started = Date.now()
    const during = await race(seeder, contributors, freeRider, await share(seeder, 3 * MiB))
    const fr = during.get(freeRider) ?? 0
    t.diagnostic(
      `while competing: contributors ${contributors.map((c) => during.get(c)).join(' and ')} B, free-rider ${fr} B`,
    )
    for (const c of contributors) {
      const got = during.get(c) ?? 0
      assert.ok(got >= 2 * fr, `contributor ${got} B vs free-rider ${fr} B`)
    }
    assert.ok(fr > 0, 'the free-rider was served while they competed, if less')
    // It finished (race awaited every fetch), and is a free-rider in the seeder's eyes now.
    assert.ok(Date.now() - started < 30_000)
    await waitFor(async () => (await seeder.ledger.reputation(freeRider.net.peerId)).standing === 'free-rider', {
      what: 'the free-rider judged',
    })
  })

  it('control: with the seeder’s ledger unplugged the same race shares the rate about equally', async (t) => {
    seeder.content.setContribution(undefined)
    try {
      const during = await race(seeder, contributors, freeRider, await share(seeder, 3 * MiB))
      const fr = during.get(freeRider) ?? 0
      t.diagnostic(
        `unplugged: contributors ${contributors.map((c) => during.get(c)).join(' and ')} B, free-rider ${fr} B`,
      )
      for (const c of contributors) {
        const got = during.get(c) ?? 0
        assert.ok(fr >= 0.6 * got, `free-rider ${fr} B vs contributor ${got} B`)
      }
    } finally {
      seeder.content.setContribution(seeder.ledger.contribution)
    }
  })
})
