/**
 * The NAT lab pairs suite, shared by test/natlab-pairs-*.test.ts (one lab per file, so that each
 * file stays well under the suite's per-file timeout): real daemons in namespaces behind real
 * NATs, two relays on the lab's internet (the first also the bootstrap peer, both relaying
 * without limits) and, where public hosts are tested, four AutoNAT helpers on their own /8s. For
 * each pair: connect by peer ID alone, a direct message each way, a 20 MiB file fetched, and the
 * connection kind docs/reachability.md gives; where it is direct, the relayed connection is gone.
 * Optionally: AutoNAT's verdict for every host and `lateral doctor`'s NAT kind.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { DoctorReply } from '../../src/daemon/doctor-schema.ts'
import { connectionTo, exercisePair, json } from '../../src/testing/natlab/checks.ts'
import { createNatLab, LAB_PORT, type LabHostKind, type NatLab } from '../../src/testing/natlab/index.ts'
import { netnsUnavailable } from '../../src/testing/netns.ts'
import type { TestDaemon } from '../../src/testing/testnet.ts'
import { waitFor } from '../../src/testing/wait.ts'

const MiB = 1024 * 1024
/** Generous: on a loaded 2-core CI machine AutoNAT and the direct upgrade take longer. */
const VERDICT_WITHIN_MS = 60_000
const DIRECT_WITHIN_MS = 60_000

export interface PairsSuite {
  title: string
  /** The hosts under test (the lab adds boot, relay2 and, with `helpers`, helper1 to helper4). */
  hosts: Array<{ name: string; kind: LabHostKind }>
  pairs: Array<[string, string, 'direct' | 'relayed']>
  /** Public AutoNAT helpers besides the relays (needed where public hosts must be confirmed). */
  helpers?: boolean
  /** Also check AutoNAT's verdict and `lateral doctor`'s NAT kind for every host. */
  verdicts?: boolean
}

export async function pairsSuite(suite: PairsSuite): Promise<void> {
  const unavailable = await netnsUnavailable()
  if (unavailable !== undefined) console.log(`# NAT lab (${suite.title}) skipped: ${unavailable}`)
  const infra = ['boot', 'relay2', ...(suite.helpers === true ? ['helper1', 'helper2', 'helper3', 'helper4'] : [])]

  describe(`NAT lab: ${suite.title}`, { skip: unavailable ?? false }, () => {
    let lab: NatLab
    const d = new Map<string, TestDaemon>()
    const daemon = (name: string) => d.get(name) as TestDaemon
    let started = 0

    before(async () => {
      lab = await createNatLab([...infra.map((name) => ({ name, kind: 'public' as const })), ...suite.hosts])
      // The lab's infrastructure announces its known addresses, as a server's operator would; the
      // relays relay without limits (the lab's 20 MiB files may cross them).
      const announce = (name: string) => ['--announce', `/ip4/${lab.host(name).address}/tcp/${LAB_PORT}`, '--no-upnp']
      const relayArgs = ['--relay-server', '--relay-data-limit', '0']
      d.set('boot', await lab.startDaemon('boot', [...relayArgs, ...announce('boot')]))
      const boot = ['--bootstrap', daemon('boot').address]
      // AutoNAT helpers on their own /8s: AutoNAT counts answers from distinct network segments.
      await Promise.all(
        infra.slice(1).map(async (name) => {
          // The helpers answer AutoNAT only; their announced addresses would make them relays ('auto').
          const role = name === 'relay2' ? relayArgs : ['--no-relay-server']
          d.set(name, await lab.startDaemon(name, [...role, ...announce(name), ...boot]))
        }),
      )
      const bootstrap = infra.flatMap((n) => ['--bootstrap', daemon(n).address])
      started = performance.now()
      await Promise.all(
        suite.hosts.map(async ({ name, kind }) => {
          // The carrier hosts' home routers answer UPnP (so double NAT shows), and a upnp host's
          // router maps its port; nothing else to map.
          const upnp = kind === 'carrier' || kind === 'upnp'
          d.set(
            name,
            await lab.startDaemon(name, [...bootstrap, ...(upnp ? [] : ['--no-upnp'])], {
              // The punch's own log lines, shown when a pair fails (see `explain`).
              DEBUG: 'lateral:punch',
            }),
          )
        }),
      )
    })
    after(async () => {
      await lab?.destroy()
    })

    if (suite.verdicts === true) {
      it('AutoNAT confirms the public hosts within 60 s; the NATed ones are relayed, with no public address confirmed', async () => {
        await Promise.all(
          suite.hosts.map(async ({ name, kind }) => {
            const report = await waitFor(
              async () => {
                const r = await json<DoctorReply>(lab, daemon(name), ['doctor'])
                return (kind === 'public' ? r.reachability === 'public' : r.reachability === 'relayed') ? r : undefined
              },
              {
                timeoutMs: Math.max(1_000, VERDICT_WITHIN_MS - (performance.now() - started)),
                intervalMs: 1_000,
                what: `${name}'s verdict`,
              },
            )
            const confirmedPublic = report.addresses.filter(
              (a) => a.verified && a.source !== 'relay' && !/\/ip4\/(192\.168|100\.64)\./.test(a.address),
            )
            if (kind === 'public') assert.ok(confirmedPublic.length > 0, `${name}: ${JSON.stringify(report.addresses)}`)
            else assert.deepEqual(confirmedPublic, [], `${name} has no confirmed public address`)
            // relay.server 'auto' (the default): a confirmed public host serves as a relay, a NATed one never.
            const serving = await waitFor(
              async () => {
                const r = await json<DoctorReply>(lab, daemon(name), ['doctor'])
                return kind !== 'public' || r.relayServer.enabled ? { on: r.relayServer.enabled } : undefined
              },
              { timeoutMs: 10_000, intervalMs: 500, what: `${name} to serve as a relay` },
            )
            assert.equal(serving.on, kind === 'public', `${name} serves as a relay: ${serving.on}`)
          }),
        )
        console.log(
          `# AutoNAT verdicts for ${suite.hosts.length} hosts within ${Math.round(performance.now() - started)} ms of the first start`,
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
        for (const { name, kind } of suite.hosts) {
          const report = await waitFor(
            async () => {
              const r = await json<DoctorReply>(lab, daemon(name), ['doctor'])
              return r.nat.kind === expected[kind] ? r : undefined
            },
            { timeoutMs: 30_000, intervalMs: 1_000, what: `doctor on ${name} to say ${expected[kind]}` },
          )
          assert.equal(report.nat.kind, expected[kind], `${name}: ${report.nat.reasons.join('; ')}`)
        }
      })
    }

    for (const [a, b, kind] of suite.pairs) {
      it(`${a} -> ${b}: connect, a message each way, 20 MiB fetched; ${kind}`, async () => {
        const result = await exercisePair(lab, daemon(a), daemon(b), {
          fileBytes: 20 * MiB,
          ...(kind === 'direct' ? { directWithinMs: DIRECT_WITHIN_MS } : {}),
        }).catch(async (err: unknown) => {
          await explain(lab, [a, b], daemon)
          throw err
        })
        if (result.kind !== kind) await explain(lab, [a, b], daemon)
        assert.equal(result.kind, kind)
        if (kind === 'direct') {
          // Once direct, the relayed connection is closed: only direct connections remain.
          const conn = await waitFor(
            async () => {
              const c = await connectionTo(lab, daemon(a), daemon(b))
              return c !== undefined && !c.addresses.some((x) => x.includes('/p2p-circuit')) ? c : undefined
            },
            { timeoutMs: 30_000, intervalMs: 500, what: 'the relayed connection to be closed' },
          )
          assert.equal(conn.kind, 'direct')
          const kindOf = (n: string) => suite.hosts.find((h) => h.name === n)?.kind
          const reachable = (n: string) => kindOf(n) === 'public' || kindOf(n) === 'upnp'
          if (!reachable(a) && !reachable(b)) {
            // Two NATed peers: the direct connection is a punched one, led by whichever side
            // dialled through the relay first (b may have, to answer a's message).
            const [pa, pb] = await Promise.all(
              [a, b].map(async (n) => (await json<DoctorReply>(lab, daemon(n), ['doctor'])).punch),
            )
            assert.ok(
              (pa?.succeeded ?? 0) + (pb?.succeeded ?? 0) >= 1,
              `one side punched through: ${a} ${JSON.stringify(pa)}, ${b} ${JSON.stringify(pb)}`,
            )
          }
        }
        console.log(
          `# ${a} -> ${b}: first message ${Math.round(result.firstMessageMs)} ms (${result.kindAtFirst}), ` +
            `${result.directMs === undefined ? 'stayed relayed' : `direct after ${Math.round(result.directMs)} ms`}, ` +
            `20 MiB at ${((result.fetchBps ?? 0) / MiB).toFixed(1)} MiB/s (${result.kind})`,
        )
      })
    }
  })
}

/** On a failure: each side's punch counters, NAT and addresses, and its punch log lines. */
async function explain(lab: NatLab, names: string[], daemon: (name: string) => TestDaemon): Promise<void> {
  for (const name of names) {
    const d = daemon(name)
    const report = await json<DoctorReply>(lab, d, ['doctor']).catch((err: unknown) => String(err))
    const summary =
      typeof report === 'string'
        ? report
        : JSON.stringify({
            reachability: report.reachability,
            nat: report.nat.kind,
            punch: report.punch,
            addresses: report.addresses.map((x) => `${x.address} ${x.source}${x.verified ? ' verified' : ''}`),
          })
    console.log(`# ${name} (${d.peerId}): ${summary}`)
    const lines = d.stderr.split('\n').filter((l) => l.includes('lateral:punch'))
    for (const line of lines.slice(-20)) console.log(`#   ${line}`)
  }
}
