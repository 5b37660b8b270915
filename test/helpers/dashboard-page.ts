/**
 * The dashboard in Debian's Chromium, headless, driven by playwright-core: a browser, and pages
 * signed in to a testnet daemon the way a user signs in (`lateral ui --no-open`).
 */
import assert from 'node:assert/strict'
import { access } from 'node:fs/promises'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import type { Testnet } from '../../src/testing/testnet.ts'

export const CHROMIUM = '/usr/bin/chromium'
/** What the machine's probe found Chromium needs here: no sandbox as root, no calls home. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export async function launchChromium(): Promise<Browser> {
  await access(CHROMIUM).catch(() => {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); .ci/run does`)
  })
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
}

export interface SignedInPage {
  page: Page
  context: BrowserContext
  /** Uncaught errors in the page so far. */
  errors: string[]
}

/** A fresh browser profile signed in to daemon i through a one-time link, on the node view. */
export async function openDashboard(browser: Browser, net: Testnet, i: number): Promise<SignedInPage> {
  const ui = await net.cli(i, ['ui', '--no-open', '--json'])
  assert.equal(ui.code, 0, ui.stderr)
  const { url } = JSON.parse(ui.stdout) as { url: string }
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  await page.goto(url)
  await page.getByTestId('peer-id').waitFor()
  return { page, context, errors }
}

/** Open a view from the navigation and wait for it to be there. */
export async function show(page: Page, view: string): Promise<void> {
  await page.click(`[data-nav=${view}]`)
  await page.locator(`[data-view=${view}]`).waitFor()
}
