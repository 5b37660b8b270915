/**
 * `npm run bench -- ledger [--receipts 2000] [--chain 10000] [--nodes 100] [--skip-forks]`
 *
 * The contribution ledger (src/ledger/), in one process:
 * - receipts signed and verified per second per node: the cryptographic work one node does per
 *   receipt (sign its half, verify the counterparty's, check the mirror), and whole exchanges
 *   between two ledgers over the memory transport (proposal, checks, agreement, both chains
 *   written), one after the other;
 * - chain verification: entries per second checked from bytes, and fetched over the wire and
 *   checked (`ledger.verify`) for a chain of `--chain` complete receipts;
 * - fork detection across `--nodes` full nodes (a ring plus 2 random chords): a forker signs two
 *   halves at one position for two honest nodes; time until every other node refuses it, by
 *   gossiped receipts (the default) and by chain fetching alone (receipts not gossiped, chains
 *   fetched every second);
 * - reputation: time to compute a node's whole table at 1,000 and 10,000 nodes (average degrees
 *   8 and 50);
 * - Sybil simulation: the fakes' largest total reputation seen by an honest peer as their number
 *   grows, against BarterCast's independent per-peer flow and the bound: bench/results/ledger-sybil.svg.
 * Writes bench/results/ledger.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { MemoryDatastore } from 'datastore-core'
import type { CID } from 'multiformats/cid'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import type { Signer } from '../src/core/signer.ts'
import { createDeviceSigner } from '../src/identity/device-signer.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { ask } from '../src/ledger/ask.ts'
import { ChainStore } from '../src/ledger/chain-store.ts'
import { verifyEntry } from '../src/ledger/chain-sync.ts'
import {
  checkAgreement,
  computeReputation,
  independentFlow,
  type ReceiptHalf,
  signHalf,
  verifyHalf,
} from '../src/ledger/index.ts'
import { decodeRequest, encodeMessage, FORKS_TOPIC, LEDGER_PROTOCOL, RECEIPTS_TOPIC } from '../src/ledger/wire.ts'
import { waitFor } from '../src/testing/wait.ts'
import { type LedgerPeer, ledgerPeers } from '../test/helpers/ledger-peers.ts'
import { simulate, sybilBound } from '../test/helpers/ledger-sim.ts'
import { sparseEdges } from './lib/gossip-net.ts'
import { median } from './lib/stats.ts'
import { lineChart } from './lib/svg.ts'

const here = dirname(fileURLToPath(import.meta.url))
const MiB = 1024 * 1024
const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits

function half(dev: string, peer: string, seq: number, prev: CID | null, out: number): ReceiptHalf {
  return { dev, seq, prev, peer, kind: 'blocks', out, in: 0, t: Date.now() }
}

/** One node's work per receipt: sign its half, verify the other's, check that they mirror. */
async function cryptoRate(receipts: number) {
  const a: Signer = createDeviceSigner(generateDeviceKey())
  const b = createDeviceSigner(generateDeviceKey())
  // The counterparty's halves, made beforehand: only this node's share is timed.
  const theirs: Uint8Array[] = []
  const mine: ReceiptHalf[] = []
  let prevA: CID | null = null
  let prevB: CID | null = null
  for (let i = 1; i <= receipts; i++) {
    const p = await signHalf(a, half(a.peerId, b.peerId, i, prevA, i))
    const ag = await signHalf(b, { ...half(b.peerId, a.peerId, i, prevB, 0), in: i, link: p.cid })
    prevA = p.cid
    prevB = ag.cid
    mine.push(p.payload)
    theirs.push(ag.bytes)
  }
  const started = performance.now()
  for (let i = 0; i < receipts; i++) {
    const p = await signHalf(a, mine[i] as ReceiptHalf)
    checkAgreement(p, verifyHalf(theirs[i] as Uint8Array))
  }
  const s = (performance.now() - started) / 1000
  return {
    receipts,
    signer: 'the device signer (signs through node:crypto, verifies strictly with noble)',
    seconds: round(s, 3),
    perSecondPerNode: Math.round(receipts / s),
  }
}

/** Whole exchanges between two ledgers over the memory transport, one after the other. */
async function exchangeRate(receipts: number) {
  const peers = ledgerPeers()
  try {
    const ledger = { announceReceipts: false, requestsPerMinute: 1_000_000, agreementsPerMinute: 1_000_000 }
    const a = await peers.add({ ledger })
    const b = await peers.add({ ledger })
    await peers.connect(b, a)
    const started = performance.now()
    for (let i = 0; i < receipts; i++) {
      a.ledger.contribution.gave(b.net.peerId, 1024, 'blocks')
      b.ledger.contribution.got(a.net.peerId, 1024, 'blocks')
      const outcome = await a.ledger.settle(b.net.peerId)
      if (outcome?.status !== 'agreed') throw new Error(`receipt ${i}: ${outcome?.status}`)
    }
    const s = (performance.now() - started) / 1000
    return {
      receipts,
      seconds: round(s, 3),
      perSecond: Math.round(receipts / s),
      medianMs: round((s * 1000) / receipts, 2),
    }
  } finally {
    await peers.stop()
  }
}

/** A chain of `length` complete receipts, written into a datastore for a ledger to serve. */
async function chainOf(length: number) {
  const key = generateDeviceKey()
  const owner = createDeviceSigner(key)
  const other = createDeviceSigner(generateDeviceKey())
  const datastore = new MemoryDatastore()
  const chain = new ChainStore(datastore)
  await chain.load()
  const entries: Array<{ h: Uint8Array; o: Uint8Array }> = []
  let prevB: CID | null = null
  for (let i = 1; i <= length; i++) {
    const p = await signHalf(owner, half(owner.peerId, other.peerId, i, chain.head?.cid ?? null, i))
    const ag = await signHalf(other, { ...half(other.peerId, owner.peerId, i, prevB, 0), in: i, link: p.cid })
    prevB = ag.cid
    await chain.append(async () => p, ag)
    entries.push({ h: p.bytes, o: ag.bytes })
  }
  return { key, owner, datastore, entries }
}

async function chainVerification(length: number) {
  const built = await chainOf(length)
  // From bytes: what a verifier does per entry (two halves, links, mirror).
  let started = performance.now()
  let at = { seq: 1, prev: null as CID | null }
  for (const e of built.entries) {
    const v = verifyEntry(built.owner.peerId, at, e)
    at = { seq: v.seq + 1, prev: v.half.cid }
  }
  const local = (performance.now() - started) / 1000
  // Over the wire: another ledger fetches it page by page and verifies it.
  const peers = ledgerPeers()
  try {
    const owner = await peers.add({ key: built.key, datastore: built.datastore })
    const verifier = await peers.add({ ledger: { verifyEntries: length, pageEntries: 128 } })
    await peers.connect(verifier, owner)
    started = performance.now()
    const v = await verifier.ledger.verify(owner.net.peerId)
    const wire = (performance.now() - started) / 1000
    if (!v.valid || v.verified !== length) throw new Error(`chain not verified: ${JSON.stringify(v)}`)
    return {
      entries: length,
      fromBytes: { seconds: round(local, 3), entriesPerSecond: Math.round(length / local) },
      overTheWire: { seconds: round(wire, 3), entriesPerSecond: Math.round(length / wire), pageEntries: 128 },
    }
  } finally {
    await peers.stop()
  }
}

/**
 * Every node but the forker refuses it: ms from the second proposal, per node. Nodes are a net,
 * a content service and the ledger each (not whole nodes: 100 of those in one process spend
 * their time on services this does not measure).
 */
async function forkDetection(n: number, mode: 'gossip' | 'fetch') {
  const ledger = mode === 'gossip' ? {} : { announceReceipts: false, syncIntervalMs: 1_000 }
  const peers = ledgerPeers()
  try {
    const forker = await peers.add({ noLedger: true })
    const others: LedgerPeer[] = []
    for (let i = 1; i < n; i++) others.push(await peers.add({ ledger }))
    const all = [forker, ...others]
    for (const [x, y] of sparseEdges(n, 2)) await peers.connect(all[x] as LedgerPeer, all[y] as LedgerPeer)
    const a = others[0] as LedgerPeer
    const b = others[Math.floor(n / 2)] as LedgerPeer
    if (!(await forker.net.connections()).some((c) => c.peerId === b.net.peerId)) await peers.connect(forker, b)
    await waitFor(
      () =>
        others.every(
          (x) =>
            x.net.pubsub.meshPeers(FORKS_TOPIC).length > 0 &&
            (mode === 'fetch' || x.net.pubsub.meshPeers(RECEIPTS_TOPIC).length > 0),
        ),
      { what: 'meshes on the ledger topics', timeoutMs: 120_000, intervalMs: 200 },
    )
    const refusedAt = new Map<LedgerPeer, number>()
    for (const x of others)
      x.ledger.addEventListener('ledger:fork', () => {
        if (!refusedAt.has(x)) refusedAt.set(x, performance.now())
      })
    const propose = async (to: LedgerPeer) => {
      const p = await signHalf(forker.signer, { ...half(forker.net.peerId, to.net.peerId, 1, null, 0), t: Date.now() })
      const answer = await ask(forker.net, to.net.peerId, { t: 'propose', half: p.bytes }, AbortSignal.timeout(10_000))
      if (answer.t !== 'agree') return undefined // refused at once: the fork was seen already
      return { proposal: p, agreement: verifyHalf(answer.half) }
    }
    await propose(a)
    const started = performance.now()
    const withB = await propose(b)
    if (mode === 'fetch' && withB !== undefined) {
      // Its chain shows every asker the version it signed for b.
      await forker.net.handle(LEDGER_PROTOCOL, async (stream) => {
        for await (const frame of readFrames(stream, 64 * 1024)) {
          const request = decodeRequest(frame)
          const entries =
            request.t === 'chain' && request.from === 1 ? [{ h: withB.proposal.bytes, o: withB.agreement.bytes }] : []
          await stream.write(encodeFrame(encodeMessage({ t: 'page', length: 1, entries })))
          break
        }
        await stream.close()
      })
    }
    await waitFor(() => refusedAt.size === others.length, {
      what: 'every node refusing the forker',
      timeoutMs: 60_000,
    }).catch(() => {})
    const ms = [...refusedAt.values()].map((t) => t - started)
    return {
      nodes: n,
      mode,
      refusing: `${refusedAt.size} of ${others.length}`,
      firstMs: round(Math.min(...ms)),
      medianMs: round(median(ms)),
      lastMs: round(Math.max(...ms)),
      ...(mode === 'fetch' ? { syncIntervalMs: 1_000 } : {}),
    }
  } finally {
    await peers.stop()
  }
}

function reputationTime(nodes: number, degree: number) {
  const sim = simulate({
    honest: Math.round(nodes * 0.8),
    freeRiders: Math.round(nodes * 0.1),
    sybils: Math.round(nodes * 0.1),
    degree,
  })
  const observers = sim.honest.slice(0, 200)
  const ms: number[] = []
  let peersSeen = 0
  for (const i of observers) {
    const started = performance.now()
    const table = computeReputation(sim.graph, i, 2)
    ms.push(performance.now() - started)
    peersSeen += table.size
  }
  return {
    nodes,
    degree,
    edges: sim.graph.size,
    medianMs: round(median(ms), 3),
    maxMs: round(Math.max(...ms), 3),
    peersInTable: Math.round(peersSeen / observers.length),
  }
}

function sybilCurve() {
  const points: Array<{ fakes: number; lateralMiB: number; barterCastMiB: number; boundMiB: number }> = []
  for (const fakes of [10, 20, 40, 60, 80, 100]) {
    const sim = simulate({ sybils: fakes })
    let lateral = 0
    let naive = 0
    let bound = 0
    for (const i of sim.honest) {
      const table = computeReputation(sim.graph, i, 2)
      lateral = Math.max(
        lateral,
        sim.sybils.reduce((n, s) => n + (table.get(s)?.gave ?? 0), 0),
      )
      naive = Math.max(
        naive,
        sim.sybils.reduce((n, s) => n + independentFlow(sim.graph, i, s), 0),
      )
      bound = Math.max(bound, sybilBound(sim, i))
    }
    points.push({
      fakes,
      lateralMiB: round(lateral / MiB),
      barterCastMiB: round(naive / MiB),
      boundMiB: round(bound / MiB),
    })
  }
  return points
}

export async function benchLedger(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      receipts: { type: 'string' },
      chain: { type: 'string' },
      nodes: { type: 'string' },
      parts: { type: 'string' },
      modes: { type: 'string' },
    },
  })
  const receipts = Number(values.receipts ?? 2000)
  const chain = Number(values.chain ?? 10_000)
  const nodes = Number(values.nodes ?? 100)
  const parts = new Set((values.parts ?? 'receipts,chain,forks,reputation,sybil').split(','))
  const log = (what: string, value: unknown) => console.error(`${what}: ${JSON.stringify(value)}`)

  let crypto: Awaited<ReturnType<typeof cryptoRate>> | undefined
  let exchanges: Awaited<ReturnType<typeof exchangeRate>> | undefined
  if (parts.has('receipts')) {
    crypto = await cryptoRate(receipts)
    log('receipts, one node’s signing and verification', crypto)
    exchanges = await exchangeRate(Math.min(receipts, 1000))
    log('receipts, whole exchanges over the memory transport', exchanges)
  }
  let verification: Awaited<ReturnType<typeof chainVerification>> | undefined
  if (parts.has('chain')) {
    verification = await chainVerification(chain)
    log('chain verification', verification)
  }
  const forks = []
  if (parts.has('forks')) {
    for (const mode of (values.modes ?? 'gossip,fetch').split(',') as Array<'gossip' | 'fetch'>) {
      const r = await forkDetection(nodes, mode)
      log('fork detection', r)
      forks.push(r)
    }
  }
  const reputation = parts.has('reputation')
    ? [reputationTime(1_000, 8), reputationTime(1_000, 50), reputationTime(10_000, 8), reputationTime(10_000, 50)]
    : []
  if (reputation.length > 0) log('reputation', reputation)
  const sybil = parts.has('sybil') ? sybilCurve() : []
  if (sybil.length > 0) log('sybil', sybil)

  const report = {
    bench: 'ledger',
    date: new Date().toISOString(),
    node: process.version,
    receipts: { cryptoPerNode: crypto, exchanges },
    chainVerification: verification,
    forkDetection: forks,
    anchors: { conTribForkDetection: '22 s across 1,000 instances (ConTrib)' },
    reputation,
    sybil,
  }
  const dir = join(here, 'results')
  mkdirSync(dir, { recursive: true })
  // A partial run (--parts) writes its own file, so the full figures are not overwritten.
  const name = values.parts === undefined ? 'ledger.json' : `ledger-${[...parts].join('-')}.json`
  writeFileSync(join(dir, name), `${JSON.stringify(report, null, 2)}\n`)
  if (sybil.length > 0)
    writeFileSync(
      join(dir, 'ledger-sybil.svg'),
      lineChart(
        'Fakes’ total reputation at the worst-placed honest peer (Lateral meets the bound)',
        'fakes in the Sybil region',
        'MiB',
        [
          // The bound first: Lateral's line, drawn last, lies on it.
          { name: 'bound', points: sybil.map((p) => [p.fakes, p.boundMiB]) },
          { name: 'BarterCast, per fake', points: sybil.map((p) => [p.fakes, p.barterCastMiB]) },
          { name: 'Lateral (shared relays)', points: sybil.map((p) => [p.fakes, p.lateralMiB]) },
        ],
      ),
    )
  console.log(JSON.stringify(report, null, 2))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchLedger(process.argv.slice(2))
