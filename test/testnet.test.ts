import assert from 'node:assert/strict'
import { access } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { PeerConnection } from '../src/net/types.ts'
import { createTestnet, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

const connectedIds = async (net: Testnet, i: number): Promise<string[]> =>
  (await net.api<{ peers: PeerConnection[] }>(i, '/v1/peers')).peers.map((p) => p.peerId).sort()

describe('three daemons as separate processes, bootstrapped from the first', () => {
  let net: Testnet
  let lastStarted: number
  before(async () => {
    net = await createTestnet(3, { bootstrap: 'first' })
    lastStarted = performance.now()
  })
  after(async () => {
    await net?.stop()
  })

  it('each finds the other two through the bootstrap peer and the DHT', async () => {
    const ids = net.daemons.map((d) => d.peerId)
    for (let i = 0; i < 3; i++) {
      const others = ids.filter((_, j) => j !== i).sort()
      await waitFor(async () => (await connectedIds(net, i)).join() === others.join(), {
        what: `daemon ${i} to see both others`,
        timeoutMs: 30_000,
      })
    }
    // Nodes 1 and 2 only knew node 0: they met through the DHT (self-lookup via node 0).
    // The DHT adds a peer to its routing table once identify confirms it speaks the DHT.
    const status = await waitFor(
      async () => {
        const s = await net.api<{ dht: { mode: string; routingTableSize: number } }>(2, '/v1/status')
        return s.dht.routingTableSize === 2 ? s : undefined
      },
      { what: 'both peers in the routing table' },
    )
    assert.equal(status.dht.mode, 'server')
    console.log(`# full mesh ${Math.round(performance.now() - lastStarted)} ms after the third daemon was ready`)
  })

  it('`lateral peers` lists them, with identify data', async () => {
    const { code, stdout } = await net.cli(1, ['peers', '--json'])
    assert.equal(code, 0)
    const { peers } = JSON.parse(stdout) as { peers: PeerConnection[] }
    assert.deepEqual(peers.map((p) => p.peerId).sort(), [net.daemons[0]?.peerId, net.daemons[2]?.peerId].sort())
    for (const p of peers) {
      assert.equal(p.agent, 'lateral/0.1.0')
      assert.ok(p.protocols.includes('/lateral/kad/1.0.0'))
      assert.ok(p.addresses[0]?.startsWith('/ip4/127.0.0.1/tcp/'))
    }
    const human = await net.cli(1, ['peers'])
    assert.match(human.stdout, /^PEER\s+ADDRESS\s+LATENCY\s+DIRECTION\s+PROTOCOLS/)
    assert.ok(human.stdout.includes(net.daemons[2]?.peerId as string))
  })

  it('`lateral ping` measures round trips', async () => {
    const { code, stdout, stderr } = await net.cli(2, ['ping', '-c', '3', '--json', net.daemons[1]?.peerId as string])
    assert.equal(code, 0, stderr)
    const result = JSON.parse(stdout)
    assert.equal(result.rttsMs.length, 3)
    assert.ok(result.rttsMs.every((r: number) => r >= 0 && r < 5000))
  })

  it('`lateral disconnect` hangs up on a peer, says how many connections it closed and for how long it is refused', async () => {
    const other = net.daemons[2]?.peerId as string
    const { code, stdout, stderr } = await net.cli(1, ['disconnect', other, '--json'])
    assert.equal(code, 0, stderr)
    const reply = JSON.parse(stdout)
    assert.equal(reply.peerId, other)
    assert.equal(reply.connections, 1)
    assert.ok(reply.refusedUntil > Date.now(), stdout)
    assert.ok(!(await connectedIds(net, 1)).includes(other))
    // A peer never connected: nothing to close, said in words.
    const stranger = '12D3KooWGzh5Q4rLjMYW1CPmydXYMJYDgZNZFaBgyw9SdGgrGqAz'
    const human = await net.cli(1, ['disconnect', stranger])
    assert.equal(human.code, 0, human.stderr)
    assert.match(
      human.stdout.trim(),
      new RegExp(`^Not connected to ${stranger}; refused for (9m 59s|10m 0s) unless you connect to it by peer ID\\.$`),
    )
    const bad = await net.cli(1, ['disconnect', 'not-a-peer-id'])
    assert.equal(bad.code, 2, 'invalid input')
    assert.match(bad.stderr, /not a peer ID/)
    // Connecting to it again lifts the hold (the next test needs the two connected).
    const back = await net.cli(1, ['connect', net.daemons[2]?.address as string])
    assert.equal(back.code, 0, back.stderr)
  })

  it('a killed daemon disappears from the others; restarted, it reconnects from its peer store', async () => {
    const victim = net.daemons[2]?.peerId as string
    await net.kill(2, 'SIGKILL')
    for (const i of [0, 1]) {
      await waitFor(async () => !(await connectedIds(net, i)).includes(victim), {
        what: `daemon ${i} to drop the killed one`,
      })
    }
    // Restart with no bootstrap flag: only the persisted peer store knows the others.
    const restarted = await net.restart(2, { args: [] })
    assert.equal(restarted.peerId, victim, 'same key, same peer ID')
    const others = [net.daemons[0]?.peerId, net.daemons[1]?.peerId].sort()
    await waitFor(async () => (await connectedIds(net, 2)).join() === others.join(), {
      what: 'the restarted daemon to reconnect',
    })
    const { code, stdout } = await net.cli(0, ['peers', '--json'])
    assert.equal(code, 0)
    assert.ok(stdout.includes(victim))
  })

  it('SIGTERM stops a daemon cleanly (exit 0, api.json gone); `lateral connect` dials by multiaddr', async () => {
    const home = net.daemons[1]?.home as string
    assert.equal(await net.kill(1, 'SIGTERM'), 0, 'clean exit on SIGTERM')
    await assert.rejects(access(join(home, 'api.json')), { code: 'ENOENT' })
    // The LevelDB lock and the ports were released: the same home starts again at once.
    const again = await net.restart(1, { args: [] })
    const { code, stdout } = await net.cli(1, ['connect', net.daemons[0]?.address as string, '--json'])
    assert.equal(code, 0, stdout)
    assert.equal(JSON.parse(stdout).peerId, net.daemons[0]?.peerId)
    assert.ok(again.peerId)
  })
})
