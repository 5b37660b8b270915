// Messaging between three daemons as separate processes, driven through the CLI.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createTestnet, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

describe('messaging across three daemon processes', () => {
  let net: Testnet
  before(async () => {
    net = await createTestnet(3, { bootstrap: 'first' })
    const ids = net.daemons.map((d) => d.peerId)
    // Daemons 1 and 2 know only daemon 0 and find each other through its DHT: 0.25-0.65 s on
    // loopback since identify push (before it, 2 runs in 3 never met).
    await waitFor(async () => (await net.api<{ peers: unknown[] }>(1, '/v1/peers')).peers.length === 2, {
      what: 'mesh',
      timeoutMs: 60_000,
    })
    assert.equal(ids.length, 3)
  })
  after(async () => {
    await net?.stop()
  })

  it('`topic pub` on one daemon is seen by `topic sub --json` on the other two', async () => {
    const subs = [
      net.spawnCli(1, ['topic', 'sub', 'general', '--json']),
      net.spawnCli(2, ['topic', 'sub', 'general', '--json']),
    ]
    try {
      // Wait until both subscriptions reached the publisher's view of the topic.
      await waitFor(
        async () => {
          const { stdout } = await net.cli(0, ['topic', 'peers', 'general', '--json'])
          return (JSON.parse(stdout) as { peers: string[] }).peers.length === 2
        },
        { what: 'both subscribers', intervalMs: 200 },
      )
      const pub = await net.cli(0, ['topic', 'pub', 'general', 'hello from zero', '--json'])
      assert.equal(pub.code, 0, pub.stderr)
      for (const sub of subs) {
        const line = await sub.waitForLine((l) => l.includes('hello from zero'))
        const message = JSON.parse(line)
        assert.equal(message.from, net.daemons[0]?.peerId)
        assert.equal(message.topic, 'general')
        assert.equal(message.text, 'hello from zero')
      }
    } finally {
      for (const sub of subs) assert.equal(await sub.stop('SIGINT'), 0, 'Ctrl-C ends `topic sub` cleanly')
    }
    const { stdout } = await net.cli(1, ['topic', 'list', '--json'])
    assert.deepEqual(JSON.parse(stdout).topics, [], '`topic sub` left the topic on exit')
  })

  it('a direct message is in the inbox, and still there after the recipient restarts', async () => {
    const to = net.daemons[1]?.peerId as string
    const sent = await net.cli(0, ['msg', 'send', to, 'persist me', '--json'])
    assert.equal(sent.code, 0, sent.stderr)
    assert.equal(JSON.parse(sent.stdout).status, 'delivered')
    await net.restart(1, { args: [] })
    const inbox = await net.cli(1, ['msg', 'inbox', '--json'])
    const messages = JSON.parse(inbox.stdout).messages as Array<{ from: string; text: string }>
    assert.deepEqual(
      messages.map((m) => [m.from, m.text]),
      [[net.daemons[0]?.peerId, 'persist me']],
    )
    const human = await net.cli(1, ['msg', 'inbox'])
    assert.match(human.stdout, /persist me/)
  })

  it('a message to an offline peer waits in the outbox and is delivered once it comes back', async () => {
    const to = net.daemons[2]?.peerId as string
    await net.kill(2)
    const sent = await net.cli(0, ['msg', 'send', to, 'you were away', '--json'])
    assert.equal(sent.code, 0, sent.stderr)
    assert.equal(JSON.parse(sent.stdout).status, 'queued')
    const outbox = JSON.parse((await net.cli(0, ['msg', 'outbox', '--json'])).stdout).messages
    assert.deepEqual(
      outbox.map((m: { to: string; text: string }) => [m.to, m.text]),
      [[to, 'you were away']],
    )
    // Back without a bootstrap flag: it redials its known peers, and the sender's outbox flushes.
    await net.restart(2, { args: [] })
    const follow = net.spawnCli(2, ['msg', 'inbox', '--follow', '--json'])
    try {
      const line = await follow.waitForLine((l) => l.includes('you were away'), 30_000)
      assert.equal(JSON.parse(line).from, net.daemons[0]?.peerId)
    } finally {
      await follow.stop()
    }
    await waitFor(
      async () => JSON.parse((await net.cli(0, ['msg', 'outbox', '--json'])).stdout).messages.length === 0,
      {
        what: 'the outbox to empty',
      },
    )
  })
})
