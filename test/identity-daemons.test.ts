// Linking devices across real daemon processes through the CLI, as a script would: each side
// prints its short string as a JSON line and reads the other side's on standard input (issue 11).
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { ContactView, IdentityReply } from '../src/identity/views.ts'
import { createTestnet, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'
import { linkByCli } from './helpers/link-cli.ts'

describe('linking devices across daemons', () => {
  let net: Testnet
  before(async () => {
    net = await createTestnet(3, { bootstrap: 'first' })
  })
  after(async () => {
    await net?.stop()
  })

  it('links two daemons through the CLI; both then show one identity with two devices', async () => {
    const started = Date.now()
    const result = await linkByCli(net, 0, 1)
    const ms = Date.now() - started
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.other, 0, result.stderr)
    const a = await net.api<IdentityReply>(0, '/v1/identity')
    const b = await net.api<IdentityReply>(1, '/v1/identity')
    assert.equal(a.id, b.id)
    assert.deepEqual(a.devices.map((d) => d.peerId).sort(), [net.daemons[0]?.peerId, net.daemons[1]?.peerId].sort())
    assert.deepEqual(b.heads, a.heads)
    const shown = await net.cli(1, ['identity', '--json'])
    assert.equal((JSON.parse(shown.stdout) as IdentityReply).devices.length, 2)
    process.stderr.write(`linked two daemons in ${ms} ms (CLI processes included)\n`)
  })

  it('a message to a person reaches a device that was offline when it is back; a restart keeps identity, contacts and log', async () => {
    const ada = await net.api<IdentityReply>(0, '/v1/identity')
    assert.equal(ada.devices.length, 2)
    // The friend names Ada, and learns her devices from the heads her devices announce.
    const added = await net.cli(2, ['contact', 'add', 'ada', ada.id, '--json'])
    assert.equal(added.code, 0, added.stderr)
    const kept = await net.cli(1, ['contact', 'add', 'friend', (await net.api<IdentityReply>(2, '/v1/identity')).id])
    assert.equal(kept.code, 0, kept.stderr)
    await waitFor(
      async () => {
        const r = await net.cli(2, ['msg', 'send', 'ada', 'probe', '--json'])
        return r.code === 0 || !/not known here/.test(r.stderr) ? r : undefined
      },
      { what: "the friend to learn Ada's devices", timeoutMs: 30_000, intervalMs: 500 },
    )
    // What the friend learnt is shown: Ada's devices, from her signed log.
    const shown = await net.cli(2, ['contact', 'show', 'ada', '--json'])
    assert.equal(shown.code, 0, shown.stderr)
    const profile = (JSON.parse(shown.stdout) as ContactView).profile
    assert.deepEqual(profile?.devices.slice().sort(), ada.devices.map((d) => d.peerId).sort())
    assert.deepEqual(profile?.mailboxes, [])
    const missing = await net.cli(2, ['contact', 'show', 'nobody'])
    assert.equal(missing.code, 1, missing.stderr)
    assert.match(missing.stderr, /no contact named "nobody"/)
    await net.kill(1) // Ada's phone is off
    const sent = await net.cli(2, ['msg', 'send', 'ada', 'are you there?', '--json'])
    assert.equal(sent.code, 0, sent.stderr)
    const reply = JSON.parse(sent.stdout) as { status: string; devices: Array<{ to: string; status: string }> }
    assert.equal(reply.status, 'queued')
    assert.deepEqual(Object.fromEntries(reply.devices.map((d) => [d.to, d.status])), {
      [net.daemons[0]?.peerId as string]: 'delivered',
      [net.daemons[1]?.peerId as string]: 'queued',
    })

    await net.restart(1)
    const after = await net.api<IdentityReply>(1, '/v1/identity')
    assert.equal(after.id, ada.id, 'the restarted daemon keeps its identity')
    assert.ok(after.entries >= ada.entries, 'and its log')
    const contacts = await net.api<{ contacts: Array<{ name: string }> }>(1, '/v1/contacts')
    assert.deepEqual(
      contacts.contacts.map((c) => c.name),
      ['friend'],
    )
    await waitFor(
      async () => {
        const inbox = await net.api<{ messages: Array<{ text?: string; contact?: string }> }>(1, '/v1/messages/inbox')
        return inbox.messages.find((m) => m.text === 'are you there?')
      },
      { what: 'the queued message to reach the phone once it is back', timeoutMs: 90_000, intervalMs: 500 },
    )
    const inbox = await net.api<{ messages: Array<{ text?: string; contact?: string }> }>(1, '/v1/messages/inbox')
    assert.equal(inbox.messages.find((m) => m.text === 'are you there?')?.contact, 'friend')
  })

  it('a wrong string typed on one side aborts both and adds nothing', async () => {
    const before = await net.api<IdentityReply>(0, '/v1/identity')
    const third = await net.api<IdentityReply>(2, '/v1/identity')
    const result = await linkByCli(net, 0, 2, (s) => s.replace(/\d/, (d) => String((Number(d) + 1) % 10)))
    assert.notEqual(result.code, 0)
    assert.notEqual(result.other, 0)
    const after = await net.api<IdentityReply>(0, '/v1/identity')
    assert.equal(after.entries, before.entries)
    assert.equal((await net.api<IdentityReply>(2, '/v1/identity')).id, third.id)
  })

  it('a used code and an expired code are refused', async () => {
    const link = net.spawnCli(2, ['device', 'link', '--json'], { stdin: true })
    const code = (JSON.parse(await link.waitForLine((l) => l.includes('"code"'))) as { code: string }).code
    await link.stop('SIGINT') // the person gave up: the code is cancelled and refused from then on
    const used = await net.cli(0, ['device', 'add', code, '--json'])
    assert.notEqual(used.code, 0)
    assert.match(used.stderr, /used|cancel|expired|no longer/i)

    // A code that outlives its time: a daemon whose codes last 1 s.
    const config = join(net.daemons[2]?.home as string, 'config.json')
    const current = JSON.parse(await readFile(config, 'utf8')) as Record<string, unknown>
    await writeFile(config, JSON.stringify({ ...current, identity: { pairingCodeTtlMs: 1000 } }))
    await net.kill(2)
    await net.restart(2)
    const late = net.spawnCli(2, ['device', 'link', '--json'], { stdin: true })
    const lateCode = (JSON.parse(await late.waitForLine((l) => l.includes('"code"'))) as { code: string }).code
    // The new device's side ends by itself when its code expires (pairing:update "expired").
    assert.notEqual(await late.exited(), 0)
    assert.match(late.stderr(), /expired/i)
    const expired = await net.cli(0, ['device', 'add', lateCode, '--json'])
    assert.notEqual(expired.code, 0)
    assert.match(expired.stderr, /expired/i)
  })
})
