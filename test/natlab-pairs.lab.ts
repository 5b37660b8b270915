/**
 * The NAT lab (src/testing/natlab): real daemons in network namespaces behind real NATs (home:
 * port-keeping masquerade; hard: `masquerade random`; carrier: a carrier NAT with a home NAT
 * behind it), two relays on the lab's internet (the first also the bootstrap peer, both relaying
 * without limits). For every pair of {public, home, hard, carrier}: connect by peer ID alone, a
 * direct message each way, a 20 MiB file fetched, and the connection kind is the one
 * docs/reachability.md says. AutoNAT confirms the public hosts within 60 s and no NATed one;
 * `lateral doctor` names each host's NAT. Needs root (CI runs as root and must run it).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { DoctorReply } from '../src/daemon/doctor-schema.ts'
import { exercisePair, json } from '../src/testing/natlab/checks.ts'
import { createNatLab, LAB_PORT, type LabHostKind, type NatLab } from '../src/testing/natlab/index.ts'
import { netnsUnavailable } from '../src/testing/netns.ts'
import type { TestDaemon } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

const unavailable = await netnsUnavailable()
if (unavailable !== undefined) console.log(`# NAT lab skipped: ${unavailable}`)

const MiB = 1024 * 1024
const HOSTS: Array<{ name: string; kind: LabHostKind }> = [
  { name: 'boot', kind: 'public' },
  { name: 'relay2', kind: 'public' },
  { name: 'helper1', kind: 'public' },
  { name: 'helper2', kind: 'public' },
  { name: 'pub1', kind: 'public' },
  { name: 'pub2', kind: 'public' },
  { name: 'home1', kind: 'home' },
  { name: 'home2', kind: 'home' },
  { name: 'hard1', kind: 'hard' },
  { name: 'hard2', kind: 'hard' },
  { name: 'carrier1', kind: 'carrier' },
  { name: 'carrier2', kind: 'carrier' },
]

/** The table of docs/reachability.md: direct where one side is public, relayed between NATs. */
const PAIRS: Array<[string, string, 'direct' | 'relayed']> = [
  ['pub1', 'pub2', 'direct'],
  ['pub1', 'home1', 'direct'],
  ['pub1', 'hard1', 'direct'],
  ['pub1', 'carrier1', 'direct'],
  ['home1', 'home2', 'relayed'],
  ['home1', 'hard1', 'relayed'],
  ['home1', 'carrier1', 'relayed'],
  ['hard1', 'hard2', 'relayed'],
  ['hard1', 'carrier1', 'relayed'],
  ['carrier1', 'carrier2', 'relayed'],
]

describe('NAT lab: every pair of public, home, hard and carrier NAT', { skip: unavailable ?? false }, () => {
  let lab: NatLab
  const d = new Map<string, TestDaemon>()
  const daemon = (name: string) => d.get(name) as TestDaemon
  let started = 0

  before(async () => {
    lab = await createNatLab(HOSTS)
    // The lab's infrastructure announces its known addresses, as a server's operator would; the
    // relays relay without limits (the lab's 20 MiB files may cross them).
    const announce = (name: string) => ['--announce', `/ip4/${lab.host(name).address}/tcp/${LAB_PORT}`, '--no-upnp']
    const relayArgs = ['--relay-server', '--relay-data-limit', '0']
    d.set('boot', await lab.startDaemon('boot', [...relayArgs, ...announce('boot')]))
    const boot = ['--bootstrap', daemon('boot').address]
    d.set('relay2', await lab.startDaemon('relay2', [...relayArgs, ...announce('relay2'), ...boot]))
    // AutoNAT helpers on their own /8s: AutoNAT counts answers from distinct network segments.
    for (const name of ['helper1', 'helper2']) d.set(name, await lab.startDaemon(name, [...announce(name), ...boot]))
    const bootstrap = ['boot', 'relay2', 'helper1', 'helper2'].flatMap((n) => ['--bootstrap', daemon(n).address])
    started = performance.now()
    for (const { name, kind } of HOSTS.slice(4)) {
      // The carrier hosts' home routers answer UPnP (so double NAT shows); nothing else to map.
      d.set(name, await lab.startDaemon(name, [...bootstrap, ...(kind === 'carrier' ? [] : ['--no-upnp'])]))
    }
  })
  after(async () => {
    await lab?.destroy()
  })

  it('AutoNAT confirms the public hosts within 60 s; the NATed ones are relayed, with no public address confirmed', async () => {
    for (const { name, kind } of HOSTS.slice(4)) {
      const report = await waitFor(
        async () => {
          const r = await json<DoctorReply>(lab, daemon(name), ['doctor'])
          return (kind === 'public' ? r.reachability === 'public' : r.reachability === 'relayed') ? r : undefined
        },
        {
          timeoutMs: Math.max(1_000, 60_000 - (performance.now() - started)),
          intervalMs: 500,
          what: `${name}'s verdict`,
        },
      )
      const confirmedPublic = report.addresses.filter(
        (a) => a.verified && a.source !== 'relay' && !/\/ip4\/(192\.168|100\.64)\./.test(a.address),
      )
      if (kind === 'public') assert.ok(confirmedPublic.length > 0, `${name}: ${JSON.stringify(report.addresses)}`)
      else assert.deepEqual(confirmedPublic, [], `${name} has no confirmed public address`)
    }
    console.log(
      `# AutoNAT verdicts for 8 hosts within ${Math.round(performance.now() - started)} ms of the first start`,
    )
  })

  it('lateral doctor names the NAT of every host', async () => {
    const expected: Record<LabHostKind, DoctorReply['nat']['kind']> = {
      public: 'none',
      home: 'home',
      hard: 'hard',
      carrier: 'carrier',
      upnp: 'home',
    }
    for (const { name, kind } of HOSTS.slice(4)) {
      const report = await waitFor(
        async () => {
          const r = await json<DoctorReply>(lab, daemon(name), ['doctor'])
          return r.nat.kind === expected[kind] ? r : undefined
        },
        { timeoutMs: 20_000, intervalMs: 500, what: `doctor on ${name} to say ${expected[kind]}` },
      )
      assert.equal(report.nat.kind, expected[kind], `${name}: ${report.nat.reasons.join('; ')}`)
    }
  })

  for (const [a, b, kind] of PAIRS) {
    it(`${a} -> ${b}: connect, a message each way, 20 MiB fetched; ${kind}`, async () => {
      const result = await exercisePair(lab, daemon(a), daemon(b), {
        fileBytes: 20 * MiB,
        ...(kind === 'direct' ? { directWithinMs: 30_000 } : {}),
      })
      assert.equal(result.kind, kind)
      console.log(
        `# ${a} -> ${b}: first message ${Math.round(result.firstMessageMs)} ms (${result.kindAtFirst}), ` +
          `${result.directMs === undefined ? 'stayed relayed' : `direct after ${Math.round(result.directMs)} ms`}, ` +
          `20 MiB at ${((result.fetchBps ?? 0) / MiB).toFixed(1)} MiB/s (${result.kind})`,
      )
    })
  }
})
