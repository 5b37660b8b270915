// LAN discovery with no bootstrap at all: three hosts in network namespaces on one bridge find
// each other by multicast DNS alone. Needs root; CI runs as root and must run it.
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { PeerConnection } from '../src/net/types.ts'
import { createNetnsLan, type NetnsLan, netnsUnavailable } from '../src/testing/netns.ts'
import { runCli, startTestDaemon, type TestDaemon } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

const unavailable = await netnsUnavailable()
if (unavailable !== undefined) console.log(`# mDNS namespace test skipped: ${unavailable}`)

describe('LAN discovery by mDNS between network namespaces', { skip: unavailable ?? false }, () => {
  let lan: NetnsLan
  let root: string
  const daemons: TestDaemon[] = []
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'lateral-mdns-'))
    lan = await createNetnsLan(3)
  })
  after(async () => {
    for (const d of daemons) {
      d.process?.kill('SIGTERM')
      if (d.process !== undefined && d.process.exitCode === null) await new Promise((r) => d.process?.once('exit', r))
    }
    await lan?.destroy()
    await rm(root, { recursive: true, force: true })
  })

  it('three nodes with no bootstrap peers find each other', async () => {
    const t0 = performance.now()
    for (const [i, host] of lan.hosts.entries()) {
      const home = join(root, `node${i}`)
      const init = await runCli(['init', '--home', home, '--no-passphrase'])
      assert.equal(init.code, 0, init.stderr)
      // mDNS stays on (the default); listen on the host's LAN address only.
      daemons.push(
        await startTestDaemon(
          i,
          home,
          ['--listen', `/ip4/${host.address}/tcp/0`, '--api', '127.0.0.1:0'],
          {},
          host.wrap,
        ),
      )
    }
    for (const [i, host] of lan.hosts.entries()) {
      const others = daemons
        .filter((_, j) => j !== i)
        .map((d) => d.peerId)
        .sort()
      const peers = await waitFor(
        async () => {
          const { stdout } = await runCli(['peers', '--json', '--home', (daemons[i] as TestDaemon).home], {
            wrap: host.wrap,
          })
          const list = (JSON.parse(stdout) as { peers: PeerConnection[] }).peers
          return list
            .map((p) => p.peerId)
            .sort()
            .join() === others.join()
            ? list
            : undefined
        },
        { timeoutMs: 45_000, intervalMs: 500, what: `host ${i} to find both others by mDNS` },
      )
      for (const p of peers) assert.match(p.addresses[0] as string, /^\/ip4\/10\./, 'connected over the LAN address')
    }
    console.log(
      `# mDNS: three namespaced hosts found each other within ${Math.round(performance.now() - t0)} ms of the first start`,
    )
  })
})
