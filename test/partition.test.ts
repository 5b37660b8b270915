/**
 * Partition and heal with real daemons in network namespaces (root only; skipped elsewhere):
 * six hosts on one bridge split 3/3 by nftables drop rules on the bridge. During the split each
 * side publishes on a topic (delivered within its side), adds content, and sends a direct
 * message across (it waits in the outbox). After the heal: every node is connected to the other
 * five with all five in its DHT routing table, every topic has the five others as peers, a
 * message published once reaches all six, content added on either side is found from the other,
 * and the queued direct messages are delivered. The refresh intervals are made short through
 * settings: lost peers redialled every REDIAL_MS, direct-message retries at most RETRY_MAX_MS
 * apart. mDNS finds the peers at start only (its next round is minutes away), so what brings the
 * halves together again is the redial of peers lost without a goodbye, as on the internet, where
 * there is no mDNS. The time from heal to convergence is printed (docs/resilience.md).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { homePaths } from '../src/core/home.ts'
import { createNetnsLan, type NetnsHost, type NetnsLan, netnsUnavailable } from '../src/testing/netns.ts'
import {
  apiInNamespace,
  type CliProcess,
  runCli,
  spawnCli,
  startTestDaemon,
  type TestDaemon,
} from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

/** mDNS's queries after the first: well after the test's end. */
const MDNS_MS = 10 * 60_000
const REDIAL_MS = 2_000
const RETRY_MAX_MS = 2_000
const unavailable = await netnsUnavailable()
if (unavailable !== undefined) console.log(`# partition test skipped: ${unavailable}`)

describe('partition 3/3 and heal', { skip: unavailable ?? false }, () => {
  let lan: NetnsLan
  let root: string
  const daemons: TestDaemon[] = []
  const subs: CliProcess[] = []
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lateral-partition-'))
    lan = await createNetnsLan(6)
  })
  after(async () => {
    for (const s of subs) await s.stop()
    for (const d of daemons) {
      d.process?.kill('SIGTERM')
      if (d.process !== undefined && d.process.exitCode === null) await new Promise((r) => d.process?.once('exit', r))
    }
    await lan?.destroy()
    await rm(root, { recursive: true, force: true })
  })

  const cli = async (i: number, args: string[]) => {
    const r = await runCli([...args, '--home', (daemons[i] as TestDaemon).home], { wrap: lan.hosts[i]?.wrap })
    assert.equal(r.code, 0, `${args.join(' ')} on host ${i}: ${r.stderr}`)
    return r.stdout
  }
  const json = async <T>(i: number, args: string[]): Promise<T> => JSON.parse(await cli(i, [...args, '--json'])) as T
  /** One API call inside host i's namespace (the daemon's API listens on its loopback). */
  const api = <T>(i: number, path: string): Promise<T> =>
    apiInNamespace<T>(daemons[i] as TestDaemon, (lan.hosts[i] as NetnsHost).wrap, path)
  const all = (f: (i: number) => Promise<boolean>) => async () =>
    (await Promise.all(daemons.map((_, i) => f(i)))).every((x) => x) ? true : undefined

  it('converges after the heal and delivers what waited', async (t) => {
    for (const [i, host] of lan.hosts.entries()) {
      const home = join(root, `node${i}`)
      assert.equal((await runCli(['init', '--home', home, '--no-passphrase'])).code, 0)
      const configPath = homePaths(home).config
      const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, Record<string, unknown>>
      config.mdnsIntervalMs = MDNS_MS as never
      config.messaging = { ...config.messaging, retryMinMs: 500, retryMaxMs: RETRY_MAX_MS }
      config.connections = { ...config.connections, redialIntervalMs: REDIAL_MS }
      await writeFile(configPath, JSON.stringify(config))
      daemons.push(
        await startTestDaemon(
          i,
          home,
          ['--listen', `/ip4/${host.address}/tcp/0`, '--api', '127.0.0.1:0', '--no-upnp'],
          {},
          host.wrap,
        ),
      )
    }
    const connected = (n: number) =>
      all(async (i) => (await json<{ connections: number }>(i, ['status'])).connections >= n)
    const t0 = Date.now()
    const phase = (name: string) => t.diagnostic(`${name} at ${Date.now() - t0} ms`)
    await waitFor(connected(5), { timeoutMs: 60_000, intervalMs: 500, what: 'all six connected' })
    phase('all connected')
    const subProcs = daemons.map((d, i) => {
      const p = spawnCli(['topic', 'sub', 'room', '--json', '--home', d.home], { wrap: lan.hosts[i]?.wrap ?? [] })
      subs.push(p)
      return p
    })
    await waitFor(
      all(async (i) => (await json<{ peers: string[] }>(i, ['topic', 'peers', 'room'])).peers.length === 5),
      {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: 'every node to see five topic peers',
      },
    )

    // Split: 0-2 | 3-5.
    await lan.partition([
      [0, 1, 2],
      [3, 4, 5],
    ])
    await waitFor(connected(2), { timeoutMs: 5_000, intervalMs: 500, what: 'still connected within the sides' })
    await waitFor(
      all(async (i) => (await json<{ connections: number }>(i, ['status'])).connections === 2),
      { timeoutMs: 90_000, intervalMs: 1_000, what: 'the cross-side connections to drop' },
    )
    phase('cross-side connections dropped')
    await cli(0, ['topic', 'pub', 'room', 'left side'])
    await cli(3, ['topic', 'pub', 'room', 'right side'])
    const fileA = join(root, 'a.bin')
    const fileB = join(root, 'b.bin')
    await writeFile(fileA, randomBytes(512 * 1024))
    await writeFile(fileB, randomBytes(512 * 1024))
    const cidA = (await json<{ cid: string }>(1, ['add', fileA])).cid
    const cidB = (await json<{ cid: string }>(4, ['add', fileB])).cid
    const dm = await json<{ status: string }>(2, ['msg', 'send', (daemons[5] as TestDaemon).peerId, 'across the split'])
    assert.equal(dm.status, 'queued', 'the recipient is out of reach: the message waits')
    // A publisher does not receive its own message: the other two of each side do.
    for (const i of [1, 2]) await subProcs[i]?.waitForLine((l) => l.includes('left side'))
    for (const i of [4, 5]) await subProcs[i]?.waitForLine((l) => l.includes('right side'))
    assert.ok(!subProcs[3]?.lines.some((l) => l.includes('left side')), 'nothing crossed the split')

    phase('split work done')
    const healed = Date.now()
    await lan.heal()
    // Every convergence is watched at once from the heal, each by polling the API inside the
    // namespaces (curl, not a CLI process per probe), so that no figure includes another's wait.
    const since = (what: string, probe: () => Promise<boolean>, intervalMs = 200) =>
      waitFor(async () => ((await probe()) ? Date.now() - healed : undefined), { timeoutMs: 60_000, intervalMs, what })
    const perNode = async (what: string, probe: (i: number) => Promise<boolean>) =>
      Math.max(...(await Promise.all(daemons.map((_, i) => since(`${what} on node ${i}`, () => probe(i))))))
    const status = (i: number) => api<{ connections: number; dht: { routingTableSize: number } }>(i, '/v1/status')
    const providedBy = async (i: number, cid: string, owner: number) =>
      JSON.stringify(await api(i, `/v1/content/${cid}/providers?timeoutMs=5000`)).includes(
        (daemons[owner] as TestDaemon).peerId,
      )
    const inbox = () => api<{ messages: Array<{ text?: string; receivedAt: number }> }>(5, '/v1/messages/inbox')
    const [connectedMs, routingMs, topicMs, providersMs, dmSeenMs] = await Promise.all([
      perNode('all six connected again', async (i) => (await status(i)).connections >= 5),
      perNode('full routing tables', async (i) => (await status(i)).dht.routingTableSize >= 5),
      perNode(
        'five topic peers again',
        async (i) => (await api<{ peers: string[] }>(i, '/v1/topics/room/peers')).peers.length === 5,
      ),
      Promise.all([
        since('side A content from side B', () => providedBy(5, cidA, 1), 500),
        since('side B content from side A', () => providedBy(0, cidB, 4), 500),
      ]).then((both) => Math.max(...both)),
      since('the queued direct message to arrive', async () =>
        JSON.stringify(await inbox()).includes('across the split'),
      ),
    ])
    // The recipient's own arrival time, not the poll that saw it.
    const arrived = (await inbox()).messages.find((m) => JSON.stringify(m).includes('across the split'))
    const dmMs = arrived === undefined ? dmSeenMs : arrived.receivedAt - healed
    // And a message published after the heal reaches every other node through the healed meshes.
    await cli(5, ['topic', 'pub', 'room', 'healed'])
    for (const p of subProcs.filter((_, i) => i !== 5)) await p.waitForLine((l) => l.includes('healed'))
    const figures = {
      connectedMs,
      routingMs,
      topicMs,
      providersMs,
      dmMs,
      redialMs: REDIAL_MS,
      retryMaxMs: RETRY_MAX_MS,
    }
    t.diagnostic(JSON.stringify(figures))
    console.log(`# partition heal: ${JSON.stringify(figures)}`)
  })
})
