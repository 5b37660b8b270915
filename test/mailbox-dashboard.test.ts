/**
 * The Mailbox view end to end (issue 12): three daemon processes and Debian's Chromium. Bob's
 * device (1) grants the box (0) msg/deposit; Bob's page lists the box under "My mailboxes". With
 * Bob's device down, Alice (2) writes to Bob; the box's page shows what it holds for Bob's
 * identity (messages, bytes of the quota, active grant). Bob's device comes back: the box's page
 * shows nothing held, and Bob's page the collection ("1 received"; "Collect now" runs one more).
 * Screenshot: docs/img/mailbox.png.
 */
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext } from 'playwright-core'
import type { DelegationView } from '../src/delegation/views.ts'
import { createTestnet, REPO_ROOT, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'
import { launchChromium, openDashboard, show } from './helpers/dashboard-page.ts'

const SHOTS = join(REPO_ROOT, 'docs', 'img')
const STEP_MS = 30_000

describe('mailbox view in Chromium against real daemons', { timeout: 240_000 }, () => {
  let net: Testnet
  let browser: Browser
  const contexts: BrowserContext[] = []

  before(async () => {
    await mkdir(SHOTS, { recursive: true })
    net = await createTestnet(3, { bootstrap: 'first', config: { delegation: { sweepIntervalMs: 500 } } })
    browser = await launchChromium()
    // Discovery through the bootstrap peer's DHT is messaging-daemons.test.ts's subject; here
    // Bob dials Alice himself so a loaded machine cannot leave the third daemon unseen.
    const dialled = await net.cli(1, ['connect', (net.daemons[2] as { address: string }).address])
    assert.equal(dialled.code, 0, dialled.stderr)
    await waitFor(async () => (await net.api<{ peers: unknown[] }>(1, '/v1/peers')).peers.length === 2, {
      what: 'mesh',
      timeoutMs: 60_000,
    })
  })

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close()
    await net?.stop()
  })

  it("shows Bob's mailbox on his page, what the box holds for him on the box's page, and the collection", async () => {
    const box = net.daemons[0]?.peerId as string
    const bobIdentity = (await net.api<{ id: string }>(1, '/v1/identity')).id
    const granted = await net.cli(1, [
      'delegate',
      'grant',
      box,
      '--can',
      'msg/deposit',
      '--quota',
      '1MiB',
      '--until',
      '30d',
      '--json',
    ])
    assert.equal(granted.code, 0, granted.stderr)
    const cid = (JSON.parse(granted.stdout) as DelegationView[])[0]?.cid
    await waitFor(
      async () =>
        (await net.api<{ delegations: DelegationView[] }>(0, '/v1/delegations?direction=received')).delegations.some(
          (d) => d.cid === cid && d.state === 'active',
        ),
      { what: 'the grant at the box', timeoutMs: STEP_MS },
    )
    const bobPage = await openDashboard(browser, net, 1)
    contexts.push(bobPage.context)
    await show(bobPage.page, 'mailbox')
    await bobPage.page.locator(`[data-testid=my-mailboxes] code[title="${box}"]`).waitFor({ timeout: STEP_MS })

    assert.equal((await net.cli(2, ['contact', 'add', 'bob', bobIdentity])).code, 0)
    await net.kill(1)
    const sent = await net.cli(2, ['msg', 'send', 'bob', 'see you at noon', '--json'])
    assert.equal(sent.code, 0, sent.stderr)

    const boxPage = await openDashboard(browser, net, 0)
    contexts.push(boxPage.context)
    await show(boxPage.page, 'mailbox')
    const row = boxPage.page.locator(`[data-testid=holding] tr[data-identity="${bobIdentity}"]`)
    // Deposited at once, or on the outbox's retry once Alice has Bob's new profile.
    await row.waitFor({ timeout: 60_000 })
    assert.match(await row.innerText(), /^\S+\s+1\s+[\d.]+ (B|KiB) \/ 1\.0 MiB[\s\S]*active/)
    await boxPage.page.screenshot({ path: join(SHOTS, 'mailbox.png') })

    await net.restart(1, { args: [] })
    await boxPage.page.getByText('Nothing held.').waitFor({ timeout: STEP_MS })
    const again = await openDashboard(browser, net, 1)
    contexts.push(again.context)
    await show(again.page, 'mailbox')
    await again.page.locator('[data-testid=my-mailboxes] td', { hasText: '1 received' }).waitFor({ timeout: STEP_MS })
    await again.page.getByRole('button', { name: 'Collect now' }).click()
    await again.page.locator('[data-testid=my-mailboxes] td', { hasText: '0 received' }).waitFor({ timeout: STEP_MS })
    assert.deepEqual([...bobPage.errors, ...boxPage.errors, ...again.errors], [])
  })
})
