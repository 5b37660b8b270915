/**
 * Mailboxes across real daemon processes, through the CLI (issue 12): Carol's always-on box (0)
 * holds Bob's mail; Bob has one device (1); Alice (2) writes to Bob.
 *
 * - Bob grants the box `msg/deposit` with a quota; Alice's message to Bob, sent while Bob's device
 *   is down, is deposited at the box; Alice goes down too; Bob's device comes back and has it.
 * - Deposits past the quota are refused; they wait in Alice's outbox.
 * - Neither the box's home (every file, LevelDB's log and tables included) nor its datastore
 *   holds the text at any time; Bob's home does once it arrived (the scan can find it).
 * - After Bob revokes the grant the box refuses a deposit for him (asked by a plain node in the test).
 *
 * Reports the hand-over time: from Bob's daemon answering again to the message in its inbox.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as cbor from '@ipld/dag-cbor'
import { MAILBOX_PROTOCOL } from '../src/core/constants.ts'
import { encodeFrame, readFrames } from '../src/core/framing.ts'
import type { DelegationView } from '../src/delegation/views.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import type { ContactView } from '../src/identity/views.ts'
import type { MailboxStatusReply } from '../src/mailbox/api/schemas.ts'
import type { DirectMessagesReply } from '../src/messaging/api/schemas.ts'
import { createNode } from '../src/node/node.ts'
import { createTestnet, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

const QUOTA = 4096
const parse = <T>(stdout: string) => JSON.parse(stdout) as T

/** Files under `dir` (recursively) whose bytes contain `needle`. */
async function filesHolding(dir: string, needle: string): Promise<string[]> {
  const bytes = Buffer.from(needle)
  const found: string[] = []
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    const content = await readFile(path).catch(() => Buffer.alloc(0))
    if (content.includes(bytes)) found.push(path)
  }
  return found
}

describe('mailboxes across daemons', { timeout: 240_000 }, () => {
  let net: Testnet
  let box: string
  let bob: string
  let bobIdentity: string
  const marker = `the spare key is in the blue pot ${randomBytes(6).toString('hex')}`

  before(async () => {
    net = await createTestnet(3, {
      bootstrap: 'first',
      // One sender may fill Bob's whole quota here: the quota itself is what is tested.
      config: { mailbox: { senderSharePercent: 100 }, delegation: { sweepIntervalMs: 500 } },
    })
    box = net.daemons[0]?.peerId as string
    bob = net.daemons[1]?.peerId as string
    await waitFor(async () => (await net.api<{ peers: unknown[] }>(1, '/v1/peers')).peers.length === 2, {
      what: 'mesh',
      timeoutMs: 60_000,
    })
    bobIdentity = (await net.api<{ id: string }>(1, '/v1/identity')).id
  })
  after(async () => {
    await net?.stop()
  })

  async function cli(i: number, args: string[]) {
    const r = await net.cli(i, [...args, '--json'], { timeoutMs: 60_000 })
    assert.equal(r.code, 0, `lateral ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }
  const holdingAtBox = async () =>
    (await net.api<MailboxStatusReply>(0, '/v1/mailbox')).holding.find((h) => h.identity === bobIdentity)

  it('Bob grants the box msg/deposit: it becomes his mailbox', async () => {
    const [grant] = parse<DelegationView[]>(
      await cli(1, ['delegate', 'grant', box, '--can', 'msg/deposit', '--quota', `${QUOTA}`, '--until', '30d']),
    )
    await waitFor(
      async () =>
        (await net.api<{ delegations: DelegationView[] }>(0, '/v1/delegations?direction=received')).delegations.some(
          (d) => d.cid === grant?.cid && d.state === 'active',
        ),
      { what: 'the grant at the box', timeoutMs: 30_000 },
    )
    const mine = parse<MailboxStatusReply>(await cli(1, ['mailbox']))
    assert.deepEqual(
      mine.mailboxes.map((m) => m.peerId),
      [box],
    )
    assert.match((await net.cli(1, ['mailbox'])).stdout, /My mailboxes:/)
    await cli(2, ['contact', 'add', 'bob', bobIdentity])
    // Alice learns Bob's mailbox from his signed log, fetched from his device while it is up.
    await waitFor(
      async () =>
        parse<ContactView>(await cli(2, ['contact', 'show', 'bob'])).profile?.mailboxes.includes(box) === true,
      { what: "the box in Alice's view of Bob's profile", timeoutMs: 30_000 },
    )
    const shown = (await net.cli(2, ['contact', 'show', 'bob'])).stdout
    assert.match(shown, /mailboxes \(1\):/)
    assert.ok(shown.includes(box), shown)
  })

  it("a message to Bob while his device is down is deposited; past the quota Alice's messages wait in her outbox", async () => {
    await net.kill(1)
    const sent = parse<{ status: string }>(await cli(2, ['msg', 'send', 'bob', marker]))
    assert.equal(sent.status, 'deposited')
    await waitFor(async () => ((await holdingAtBox())?.messages ?? 0) >= 1, { what: 'the deposit', timeoutMs: 60_000 })
    for (let i = 0; i < 10; i++) await cli(2, ['msg', 'send', 'bob', `filler ${i} ${'x'.repeat(300)}`])
    const held = await waitFor(
      async () => {
        const h = await holdingAtBox()
        const waiting = parse<DirectMessagesReply>(await cli(2, ['msg', 'outbox'])).messages
        return h !== undefined && waiting.length > 0 && h.messages + waiting.length === 11 ? h : undefined
      },
      { what: 'the outbox and the box to account for every message', timeoutMs: 30_000 },
    )
    assert.ok(held.bytes <= QUOTA, `the box holds ${held.bytes} bytes of a ${QUOTA}-byte quota`)
    assert.ok(held.messages < 11, 'some were refused')
    assert.equal(held.quota, QUOTA)
    const human = (await net.cli(0, ['mailbox'])).stdout
    assert.match(human, new RegExp(`${bobIdentity}\\s+${held.messages}\\s`))
    assert.deepEqual(await filesHolding(net.daemons[0]?.home as string, marker), [], "the box's home has no text")
  })

  it('Bob comes back (Alice is down): his device collects the message from the box, which deletes it', async () => {
    await net.kill(2)
    const taken = (await holdingAtBox())?.messages ?? 0
    const spawned = performance.now()
    await net.restart(1, { args: [] })
    const started = performance.now()
    const inbox = async () => (await net.api<DirectMessagesReply>(1, '/v1/messages/inbox')).messages
    await waitFor(async () => (await inbox()).some((m) => m.text === marker), {
      what: "the message in Bob's inbox",
      timeoutMs: 30_000,
      intervalMs: 20,
    })
    const ms = performance.now() - started
    const fromSpawn = performance.now() - spawned
    // The box hands messages over one at a time: the rest may still be on their way.
    await waitFor(async () => (await inbox()).length >= taken, {
      what: 'every message the box held',
      timeoutMs: 30_000,
    })
    assert.equal((await inbox()).length, taken, 'every message the box held, once each')
    await waitFor(async () => (await holdingAtBox()) === undefined, { what: 'deletion at the box' })
    const home = net.daemons[0]?.home as string
    assert.deepEqual(await filesHolding(home, marker), [], "the box's home has no text")
    assert.ok(
      (await filesHolding(net.daemons[1]?.home as string, marker)).length > 0,
      "Bob's home has it: the scan sees",
    )
    const mine = parse<MailboxStatusReply>(await cli(1, ['mailbox']))
    assert.equal(mine.mailboxes[0]?.last?.error, undefined)
    process.stderr.write(
      `# hand-over after Bob's daemon came back: ${fromSpawn.toFixed(0)} ms from starting the process (${ms.toFixed(0)} ms after its API answered) to the message in its inbox\n`,
    )
  })

  it('`lateral mailbox collect` collects now; after Bob revokes the grant the box refuses deposits for him', async () => {
    const collected = parse<{ results: Array<{ mailbox: string; error?: string }> }>(
      await cli(1, ['mailbox', 'collect']),
    )
    assert.deepEqual(
      collected.results.map((r) => [r.mailbox, r.error]),
      [[box, undefined]],
    )
    const [grant] = parse<DelegationView[]>(await cli(1, ['delegate', 'list', '--given']))
    await cli(1, ['delegate', 'revoke', grant?.cid as string])
    await waitFor(
      async () =>
        (await net.api<{ delegations: DelegationView[] }>(0, '/v1/delegations?direction=received')).delegations.some(
          (d) => d.cid === grant?.cid && d.state === 'revoked',
        ),
      { what: 'the revocation at the box', timeoutMs: 60_000 },
    )
    // A plain node in this process asks the box daemon to hold mail for Bob's device.
    const asker = await createNode({
      key: generateDeviceKey(),
      config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], metrics: false },
    })
    try {
      await asker.net.connect(net.daemons[0]?.address as string)
      const stream = await asker.net.openStream(box, MAILBOX_PROTOCOL)
      await stream.write(encodeFrame(cbor.encode({ op: 'deposit', identity: bobIdentity, device: bob })))
      const answers: unknown[] = []
      for await (const frame of readFrames(stream, 4096)) answers.push(cbor.decode(frame))
      assert.deepEqual(answers, [
        {
          ok: false,
          code: 'no-delegation',
          error: `this peer holds no mailbox delegation for identity ${bobIdentity}`,
        },
      ])
    } finally {
      await asker.stop()
    }
  })
})
