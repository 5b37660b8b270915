/**
 * The Delegations view end to end (issue 12): two daemon processes and Debian's Chromium. A page
 * on daemon 0 grants daemon 1 the right to keep 5 MiB for 30 days; the page on daemon 1 shows it
 * received and active; revoking it from page 0 turns it revoked on both. Screenshot:
 * docs/img/delegations.png.
 */
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext } from 'playwright-core'
import { createTestnet, REPO_ROOT, type Testnet } from '../src/testing/testnet.ts'
import { launchChromium, openDashboard, show } from './helpers/dashboard-page.ts'

const SHOTS = join(REPO_ROOT, 'docs', 'img')
const STEP_MS = 30_000

describe('delegations view in Chromium against real daemons', () => {
  let net: Testnet
  let browser: Browser
  const contexts: BrowserContext[] = []

  before(async () => {
    await mkdir(SHOTS, { recursive: true })
    net = await createTestnet(2, { bootstrap: 'first', config: { delegation: { sweepIntervalMs: 500 } } })
    browser = await launchChromium()
  })

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close()
    await net?.stop()
  })

  it('grants from one page, shows it received on the other, and revokes it', async () => {
    const giver = await openDashboard(browser, net, 0)
    const holder = await openDashboard(browser, net, 1)
    contexts.push(giver.context, holder.context)
    const a = giver.page
    const b = holder.page
    await show(a, 'delegations')
    await show(b, 'delegations')

    await a.fill('[data-testid=grant-form] input[name=to]', net.daemons[1]?.peerId as string)
    await a.selectOption('[data-testid=grant-form] select[name=can]', 'store/put')
    await a.fill('[data-testid=grant-form] input[name=quota]', '5')
    await a.fill('[data-testid=grant-form] input[name=days]', '30')
    await a.click('[data-testid=grant-form] button[type=submit]')

    const given = a.locator('[data-testid=given] tr[data-cid]')
    await given.first().waitFor({ timeout: STEP_MS })
    const cid = (await given.first().getAttribute('data-cid')) as string
    assert.match(await given.first().innerText(), /\/store\/put[\s\S]*5\.0 MiB/)

    await a
      .locator(`[data-testid=given] tr[data-cid="${cid}"]`)
      .filter({ hasNotText: 'not delivered' })
      .waitFor({ timeout: STEP_MS })
    const received = b.locator(`[data-testid=received] tr[data-cid="${cid}"]`)
    await received.waitFor({ timeout: STEP_MS })
    await received.filter({ hasText: 'active' }).waitFor({ timeout: STEP_MS })
    await a.screenshot({ path: join(SHOTS, 'delegations.png') })

    await a.locator(`[data-testid=given] tr[data-cid="${cid}"] button`).click()
    for (const [page, table] of [
      [a, 'given'],
      [b, 'received'],
    ] as const) {
      await page
        .locator(`[data-testid=${table}] tr[data-cid="${cid}"]`)
        .filter({ hasText: 'revoked' })
        .waitFor({ timeout: STEP_MS })
    }
  })
})
