/**
 * The Ledger view and the reputation column of the Peers view, end to end (issue 14): two daemon
 * processes and Debian's Chromium. Daemon 0 serves a file to daemon 1; daemon 1's Ledger view
 * shows its chain, what it received from 0 with a chart over time, and 0's standing; "Why" shows
 * the path the contribution came along; the Peers view shows 0 as a contributor with the same
 * explanation on demand. Screenshot: docs/img/ledger.png.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext } from 'playwright-core'
import type { LedgerSummary } from '../src/ledger/views.ts'
import { createTestnet, REPO_ROOT, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'
import { launchChromium, openDashboard, show } from './helpers/dashboard-page.ts'

const SHOTS = join(REPO_ROOT, 'docs', 'img')
const STEP_MS = 30_000
const MiB = 1024 * 1024

describe('ledger view in Chromium against real daemons', { timeout: 240_000 }, () => {
  let net: Testnet
  let browser: Browser
  let dir: string
  const contexts: BrowserContext[] = []

  before(async () => {
    await mkdir(SHOTS, { recursive: true })
    dir = await mkdtemp(join(tmpdir(), 'lateral-ledger-ui-'))
    net = await createTestnet(2, {
      bootstrap: 'first',
      config: { ledger: { receiptBytes: 512 * 1024, receiptIntervalMs: 500 } },
    })
    browser = await launchChromium()
  })

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close()
    await net?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('shows the chain, what was received with a chart, and why the seeder is a contributor', async () => {
    const seeder = net.daemons[0]?.peerId as string
    const file = join(dir, 'f.bin')
    await writeFile(file, randomBytes(3 * MiB))
    const added = await net.cli(0, ['add', file, '--json'])
    assert.equal(added.code, 0, added.stderr)
    const { cid } = JSON.parse(added.stdout) as { cid: string }
    const got = await net.cli(1, ['get', cid, '-o', join(dir, 'out.bin'), '--json'])
    assert.equal(got.code, 0, got.stderr)
    const { fetchedBytes } = JSON.parse(got.stdout) as { fetchedBytes: number }
    await waitFor(
      async () =>
        (await net.api<LedgerSummary>(1, '/v1/ledger')).counterparties.some(
          (c) => c.peer === seeder && c.received === fetchedBytes,
        ),
      { what: 'the receipts at the downloader', timeoutMs: STEP_MS },
    )

    const { page, context, errors } = await openDashboard(browser, net, 1)
    contexts.push(context)
    await show(page, 'ledger')
    const row = page.locator(`[data-testid=counterparties] tr[data-peer="${seeder}"]`)
    await row.waitFor({ timeout: STEP_MS })
    assert.match(await row.innerText(), /0 B\s+3\.0 MiB/)
    assert.ok(Number(await page.getByTestId('chain-length').innerText()) >= 1)
    await page.getByTestId('ledger-chart').waitFor({ timeout: STEP_MS })
    await row.locator('[data-standing=contributor]').waitFor({ timeout: STEP_MS })
    await row.getByRole('button', { name: 'Why' }).click()
    const why = row.getByTestId('reputation-explanation')
    await why.waitFor({ timeout: STEP_MS })
    assert.match(await why.innerText(), /gave 3\.0 MiB, took 0 B[\s\S]*3\.0 MiB direct/)
    await page.screenshot({ path: join(SHOTS, 'ledger.png'), fullPage: true })

    await show(page, 'peers')
    const peerRow = page.locator(`[data-testid=peers-table] tr[data-peer="${seeder}"]`)
    await peerRow.locator('[data-standing=contributor]').waitFor({ timeout: STEP_MS })
    await peerRow.getByRole('button', { name: 'Why' }).click()
    await peerRow.getByTestId('reputation-explanation').waitFor({ timeout: STEP_MS })
    assert.deepEqual(errors, [])
  })
})
