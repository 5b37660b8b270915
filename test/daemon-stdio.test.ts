/**
 * A daemon started from a pipe (`lateral daemon 2>&1 | tee log`) outlives the pipe's reader:
 * when both its stdout and stderr readers go away, its next log lines meet EPIPE, and it must
 * go on serving, keep writing its log file, and still stop cleanly (exit 0) on SIGTERM. Before
 * the fix the write error was an uncaught exception: the daemon stopped, or died at start-up.
 */
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createTestnet, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

describe('a daemon whose output pipes close', { timeout: 120_000 }, () => {
  let net: Testnet

  before(async () => {
    net = await createTestnet(1)
  })
  after(async () => {
    await net?.stop()
  })

  it('goes on serving and logging to its file, and stops cleanly on SIGTERM', async () => {
    const daemon = net.daemons[0]
    assert.ok(daemon?.process)
    const log = join(daemon.home, 'logs', 'daemon.log')
    // The test's ends of both pipes close: the daemon's next write to either gets EPIPE.
    daemon.process.stdout?.destroy()
    daemon.process.stderr?.destroy()
    // `gc` logs an info line: the first write to the closed stderr.
    const gc = await net.cli(0, ['gc', '--json'])
    assert.equal(gc.code, 0, gc.stderr)
    await waitFor(async () => (await readFile(log, 'utf8')).includes('stderr closed'), {
      what: 'the daemon to note in its log file that stderr closed',
    })
    // Still alive and serving, and its log file still written.
    assert.equal(daemon.process.exitCode, null)
    const again = await net.cli(0, ['gc', '--json'])
    assert.equal(again.code, 0, again.stderr)
    await waitFor(
      async () => (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes('garbage collected')).length >= 2,
      { what: 'the second gc in the log file' },
    )
    assert.equal(await net.kill(0, 'SIGTERM'), 0, 'clean exit on SIGTERM')
    const text = await readFile(log, 'utf8')
    assert.match(text, /daemon stopped/)
    assert.doesNotMatch(text, /fatal error/)
  })
})
