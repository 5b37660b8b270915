// The interactive `lateral topic join`, driven through a real terminal (tmux): a typed line is
// published, an incoming line is shown, Ctrl-C leaves.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { createTestnet, LATERAL_BIN, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

const run = promisify(execFile)
const session = `lateral-pty-${process.pid}`
const tmux = (...args: string[]) => run('tmux', args)
const screen = async () => (await tmux('capture-pane', '-p', '-t', session)).stdout

describe('`lateral topic join` in a terminal', () => {
  let net: Testnet
  before(async () => {
    net = await createTestnet(2, { bootstrap: 'first' })
  })
  after(async () => {
    await tmux('kill-session', '-t', session).catch(() => {})
    await net?.stop()
  })

  it('shows incoming lines and publishes typed ones', async () => {
    const home = net.daemons[0]?.home as string
    await tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '160',
      '-y',
      '30',
      `${process.execPath} ${LATERAL_BIN} topic join general --home ${home}`,
    )
    await waitFor(async () => (await screen()).includes('Joined "general"'), { what: 'the join banner' })
    const listener = net.spawnCli(1, ['topic', 'sub', 'general', '--json'])
    try {
      await waitFor(
        async () =>
          (JSON.parse((await net.cli(1, ['topic', 'peers', 'general', '--json'])).stdout).peers as string[]).includes(
            net.daemons[0]?.peerId as string,
          ),
        { what: 'the terminal user in the topic', intervalMs: 200 },
      )
      await waitFor(
        async () =>
          (JSON.parse((await net.cli(0, ['topic', 'peers', 'general', '--json'])).stdout).peers as string[]).length ===
          1,
        { what: 'the listener in the topic', intervalMs: 200 },
      )
      // Incoming: published elsewhere, shown on the terminal.
      assert.equal((await net.cli(1, ['topic', 'pub', 'general', 'incoming from one'])).code, 0)
      await waitFor(async () => (await screen()).includes('incoming from one'), { what: 'the incoming line on screen' })
      // Outgoing: typed in the terminal, received by the other daemon.
      await tmux('send-keys', '-t', session, 'typed in the terminal', 'Enter')
      const line = await listener.waitForLine((l) => l.includes('typed in the terminal'))
      assert.equal(JSON.parse(line).from, net.daemons[0]?.peerId)
    } finally {
      await listener.stop()
    }
    // Ctrl-C leaves the topic and ends the command.
    await tmux('send-keys', '-t', session, 'C-c')
    await waitFor(
      async () => (JSON.parse((await net.cli(0, ['topic', 'list', '--json'])).stdout).topics as unknown[]).length === 0,
      {
        what: 'the topic to be left',
      },
    )
  })
})
