// Recovery through guardians across real daemon processes, through the CLI as a script would
// (issue 13): 3 of 5 guardians approve a fresh device, which becomes the identity's only device
// after the delay; a third peer refuses the old device; a recovery by someone else is vetoed.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { RecoveryReply } from '../src/identity/api/schemas.ts'
import type { IdentityReply } from '../src/identity/views.ts'
import { createTestnet, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

const OWNER = 0
const GUARDIANS = [1, 2, 3, 4, 5]
const FRESH = 6
const THIRD = 7

describe('recovery across daemons', () => {
  let net: Testnet
  let identity: string
  before(async () => {
    net = await createTestnet(8, { bootstrap: 'first', config: { identity: { recoveryMinDelayMs: 1000 } } })
    identity = (await net.api<IdentityReply>(OWNER, '/v1/identity')).id
    for (const [i, g] of GUARDIANS.entries()) {
      const id = (await net.api<IdentityReply>(g, '/v1/identity')).id
      const r = await net.cli(OWNER, ['contact', 'add', `g${i}`, id])
      assert.equal(r.code, 0, r.stderr)
    }
    const added = await net.cli(THIRD, ['contact', 'add', 'owner', identity])
    assert.equal(added.code, 0, added.stderr)
    // The owner learns its guardians' devices from their announcements, then sets them.
    await waitFor(
      async () => {
        const r = await net.cli(OWNER, [
          'guardians',
          'set',
          'g0',
          'g1',
          'g2',
          'g3',
          'g4',
          '--threshold',
          '3',
          '--delay',
          '3s',
          '--json',
        ])
        return r.code === 0 ? r : undefined
      },
      { what: 'the guardians to be set', timeoutMs: 60_000, intervalMs: 1000 },
    )
  })
  after(async () => {
    await net?.stop()
  })

  /** `recover approve CODE` on guardian `g`, typing `typed(shortString)`; retried until the guardian keeps the log. */
  async function approve(g: number, code: string, typed: (s: string) => string = (s) => s) {
    return waitFor(
      async () => {
        const p = net.spawnCli(g, ['recover', 'approve', code, '--json'], { stdin: true })
        const first = await p.waitForLine((l) => l.includes('"shortString"'), 20_000).catch(() => undefined)
        if (first === undefined) {
          await p.exited()
          return undefined
        }
        p.writeLine(typed((JSON.parse(first) as { shortString: string }).shortString))
        return {
          code: await p.exited(),
          stderr: p.stderr(),
          shortString: (JSON.parse(first) as { shortString: string }).shortString,
        }
      },
      { what: `guardian ${g} to see the request`, timeoutMs: 60_000, intervalMs: 500 },
    )
  }

  it('3 of 5 approve: the fresh device becomes the only device after the delay; a third peer refuses the old one', async () => {
    const shown = await net.cli(OWNER, ['guardians', '--json'])
    assert.equal((JSON.parse(shown.stdout) as IdentityReply).guardians.current?.threshold, 3)

    const started = Date.now()
    const recovering = net.spawnCli(FRESH, ['recover', 'start', identity, '--json'], { stdin: true })
    const line = JSON.parse(await recovering.waitForLine((l) => l.includes('"code"'))) as {
      code: string
      shortString: string
    }
    recovering.writeLine('yes')
    // A guardian who hears another string approves nothing.
    const wrong = await approve(GUARDIANS[4] as number, line.code, () => '1111-2222-3333')
    assert.notEqual(wrong.code, 0)
    for (const g of GUARDIANS.slice(0, 3)) {
      const r = await approve(g, line.code)
      assert.equal(r.shortString, line.shortString, 'the guardian sees the string the person reads out')
      assert.equal(r.code, 0, r.stderr)
    }
    await waitFor(async () => (await net.api<IdentityReply>(OWNER, '/v1/identity')).recovery?.state === 'pending', {
      what: 'the owner device to be told',
      timeoutMs: 30_000,
    })
    const code = await recovering.exited()
    assert.equal(code, 0, recovering.stderr())
    process.stderr.write(
      `recovery across daemons: recover start to a working device in ${Date.now() - started} ms (delay 3 s)\n`,
    )
    const fresh = await net.api<IdentityReply>(FRESH, '/v1/identity')
    assert.equal(fresh.id, identity)
    assert.deepEqual(
      fresh.devices.map((d) => d.peerId),
      [net.daemons[FRESH]?.peerId],
    )
    // A third peer that sees the new log refuses what the old device signs.
    await waitFor(
      async () => {
        const sent = await net.cli(OWNER, ['msg', 'send', net.daemons[THIRD]?.peerId as string, 'it is me', '--json'])
        return /revoked/.test(sent.stdout + sent.stderr) ? sent : undefined
      },
      { what: 'the third peer to refuse the old device', timeoutMs: 60_000, intervalMs: 1000 },
    )
  })

  it('someone else starts a recovery: the device of the identity vetoes it, and it never takes effect', async () => {
    const thief = net.spawnCli(THIRD, ['recover', 'start', identity, '--json'], { stdin: true })
    const line = JSON.parse(await thief.waitForLine((l) => l.includes('"code"'))) as { code: string }
    thief.writeLine('yes')
    for (const g of GUARDIANS.slice(2, 5)) assert.equal((await approve(g, line.code, () => 'yes')).code, 0)
    await waitFor(
      async () => (await net.api<RecoveryReply>(FRESH, '/v1/recovery')).recovery?.state === 'pending' || undefined,
      { what: 'the pending recovery on the device', timeoutMs: 30_000 },
    )
    const veto = await net.cli(FRESH, ['recover', 'veto', '--json'])
    assert.equal(veto.code, 0, veto.stderr)
    assert.notEqual(await thief.exited(), 0, 'the thief’s recovery ends without success')
    assert.match(thief.stderr() + thief.lines.join('\n'), /vetoed/)
    const after = await net.api<IdentityReply>(FRESH, '/v1/identity')
    assert.deepEqual(
      after.devices.map((d) => d.peerId),
      [net.daemons[FRESH]?.peerId],
    )
  })

  it('2 of 5 approvals do not reach the threshold: nothing changes', async () => {
    const asker = GUARDIANS[4] as number
    const p = net.spawnCli(asker, ['recover', 'start', identity, '--json'], { stdin: true })
    const line = JSON.parse(await p.waitForLine((l) => l.includes('"code"'))) as { code: string }
    p.writeLine('yes')
    for (const g of GUARDIANS.slice(0, 2)) assert.equal((await approve(g, line.code, () => 'yes')).code, 0)
    const status = await waitFor(
      async () => {
        const r = await net.api<RecoveryReply>(asker, '/v1/recovery')
        const s = r.sessions.find((x) => x.role === 'recovering')
        return s !== undefined && s.approvals.length === 2 ? s : undefined
      },
      { what: 'the two approvals at the asking device', timeoutMs: 30_000 },
    )
    // The recover entry is written as the approval that reaches the threshold arrives: with two
    // approvals in, the session still waits and the identity has no pending recovery.
    assert.equal(status.state, 'waiting')
    assert.equal(status.threshold, 3)
    const device = await net.api<IdentityReply>(FRESH, '/v1/identity')
    assert.notEqual(device.recovery?.state, 'pending', 'no recovery entry was written')
    assert.deepEqual(
      device.devices.map((d) => d.peerId),
      [net.daemons[FRESH]?.peerId],
    )
    await p.stop()
  })
})
