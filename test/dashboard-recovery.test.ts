/**
 * Recovery in the dashboard (issue 13), three daemon processes and Debian's Chromium: the person
 * sets a guardian on page A; a fresh device asks on page C; the guardian compares the short
 * string and approves on page B; page A shows the banner at once and vetoes. Screenshots:
 * docs/img/recovery-approve.png, docs/img/recovery-banner.png.
 */
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext } from 'playwright-core'
import type { IdentityReply } from '../src/identity/views.ts'
import { createTestnet, REPO_ROOT, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'
import { launchChromium, openDashboard, show } from './helpers/dashboard-page.ts'

const SHOTS = join(REPO_ROOT, 'docs', 'img')
const STEP_MS = 30_000

describe('recovery in Chromium against real daemons', () => {
  let net: Testnet
  let browser: Browser
  const contexts: BrowserContext[] = []

  before(async () => {
    await mkdir(SHOTS, { recursive: true })
    net = await createTestnet(3, { bootstrap: 'first', config: { identity: { recoveryMinDelayMs: 1000 } } })
    browser = await launchChromium()
  })

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close()
    await net?.stop()
  })

  it('sets a guardian, a fresh device asks, the guardian approves after comparing, the device vetoes from the banner', async () => {
    const guardianId = (await net.api<IdentityReply>(1, '/v1/identity')).id
    const identity = (await net.api<IdentityReply>(0, '/v1/identity')).id
    assert.equal((await net.cli(0, ['contact', 'add', 'grace', guardianId])).code, 0)
    await waitFor(
      async () => (await net.cli(0, ['guardians', 'set', 'grace', '--threshold', '1', '--delay', '1h'])).code === 0,
      {
        what: "the guardian's log at the owner",
        timeoutMs: 30_000,
        intervalMs: 1000,
      },
    )
    const [a, b, c] = await Promise.all([0, 1, 2].map((i) => openDashboard(browser, net, i)))
    for (const p of [a, b, c]) contexts.push((p as { context: BrowserContext }).context)
    const pageA = (a as { page: import('playwright-core').Page }).page
    const pageB = (b as { page: import('playwright-core').Page }).page
    const pageC = (c as { page: import('playwright-core').Page }).page
    await show(pageA, 'identity')
    await pageA
      .getByTestId('guardians')
      .filter({ hasText: /1 of 1 must approve[\s\S]*grace/ })
      .waitFor({ timeout: STEP_MS })

    await show(pageC, 'identity')
    await pageC.fill('input[name=recover-identity]', identity)
    await pageC.click('text=Ask my guardians')
    const session = pageC.getByTestId('recovery-session')
    await session.waitFor({ timeout: STEP_MS })
    const code = ((await session.locator('code.peer-id').textContent()) ?? '').trim()
    const shortString = ((await session.locator('.short-string').textContent()) ?? '').trim()

    await show(pageB, 'identity')
    // The guardian's node may still be fetching the person's log: try again until it knows it.
    await waitFor(
      async () => {
        if ((await pageB.getByTestId('recovery-session').count()) > 0) return true
        await pageB.fill('input[name=approve-code]', code)
        await pageB.click('text=Check the request')
        return await pageB
          .getByTestId('recovery-session')
          .waitFor({ timeout: 3000 })
          .then(() => true)
          .catch(() => undefined)
      },
      { what: 'the guardian to see the request', timeoutMs: STEP_MS, intervalMs: 500 },
    )
    assert.equal(((await pageB.locator('.short-string').textContent()) ?? '').trim(), shortString)
    await pageB.fill('input[name=typed-string]', shortString)
    await pageB.screenshot({ path: join(SHOTS, 'recovery-approve.png') })
    await pageB.click('button:has-text("Approve")')
    await pageB.locator('[data-testid=recovery-session][data-state=approved]').waitFor({ timeout: STEP_MS })

    // The person's device shows the banner at once, on whatever view is open.
    await show(pageA, 'node')
    const banner = pageA.getByTestId('recovery-banner')
    await banner.waitFor({ timeout: STEP_MS })
    await pageA.screenshot({ path: join(SHOTS, 'recovery-banner.png') })
    await pageA.getByTestId('recovery-veto').click()
    await banner.waitFor({ state: 'detached', timeout: STEP_MS })
    assert.equal((await net.api<IdentityReply>(0, '/v1/identity')).recovery?.state, 'vetoed')
  })
})
