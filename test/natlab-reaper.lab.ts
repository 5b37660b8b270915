/**
 * A NAT lab whose owning process was SIGKILLed (as the test runner's timeout does to a file) is
 * cleaned by the next lab's start: its daemon and miniupnpd are ended, its namespaces deleted,
 * its folder removed. Needs root (CI runs as root and must run it).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { createNatLab } from '../src/testing/natlab/index.ts'
import { sh } from '../src/testing/natlab/sh.ts'
import { netnsUnavailable } from '../src/testing/netns.ts'
import { REPO_ROOT } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

const unavailable = await netnsUnavailable()
if (unavailable !== undefined) console.log(`# NAT lab (reaper) skipped: ${unavailable}`)

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    // A killed process whose parent is gone stays a zombie until init reaps it (a container's
    // init may never): it runs nothing.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

describe('NAT lab: nothing outlives its owner', { skip: unavailable ?? false }, () => {
  it('a lab whose owner was SIGKILLed is cleaned by the next lab start', async (t) => {
    const owner = spawn(process.execPath, [join(REPO_ROOT, 'test', 'helpers', 'natlab-owner.ts')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    owner.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    owner.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d
    })
    const exited = new Promise((r) => owner.once('exit', r))
    t.after(() => {
      owner.kill('SIGKILL')
    })
    const made = await waitFor(
      async () => {
        if (owner.exitCode !== null) throw new Error(`the owner exited: ${err}`)
        const line = out.split('\n')[0] as string
        return out.includes('\n')
          ? (JSON.parse(line) as { daemonPid: number; namespaces: string[]; dir: string })
          : undefined
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'the owner to build its lab' },
    )
    const listed = () => sh('ip', 'netns', 'list')
    for (const ns of made.namespaces) assert.match(await listed(), new RegExp(`^${ns}\\b`, 'm'))
    const miniupnpd = (await sh('ip', 'netns', 'pids', made.namespaces[2] as string)).trim()
    assert.notEqual(miniupnpd, '', 'miniupnpd runs in the router namespace')
    assert.ok(alive(made.daemonPid))

    owner.kill('SIGKILL')
    await exited
    // Killed without a chance to clean: everything is still there.
    assert.ok(alive(made.daemonPid), 'the daemon outlived its owner')
    for (const ns of made.namespaces) assert.match(await listed(), new RegExp(`^${ns}\\b`, 'm'))

    const next = await createNatLab([{ name: 'x', kind: 'public' }])
    t.after(() => next.destroy())
    const now = await listed()
    for (const ns of made.namespaces) assert.doesNotMatch(now, new RegExp(`^${ns}\\b`, 'm'), `${ns} deleted`)
    await waitFor(async () => (alive(made.daemonPid) ? undefined : true), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: 'the daemon to be gone',
    })
    for (const pid of miniupnpd.split('\n').map(Number)) {
      await waitFor(async () => (alive(pid) ? undefined : true), {
        timeoutMs: 10_000,
        intervalMs: 50,
        what: `miniupnpd ${pid} to end`,
      })
    }
    assert.ok(!existsSync(made.dir), 'the lab folder is removed')
  })
})
