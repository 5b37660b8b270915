/**
 * The dashboard end to end: real daemon processes on 127.0.0.1 and Debian's Chromium, headless,
 * driven by playwright-core. Each page signs in the way a user does (`lateral ui --no-open`).
 * Screenshots of every view are saved under docs/img/ for the README.
 *
 * Daemon 0 is the user's node; daemons 1 and 2 are its peers (bootstrapped from daemon 0).
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import type { PeerConnection } from '../src/net/types.ts'
import { createTestnet, REPO_ROOT, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

const CHROMIUM = '/usr/bin/chromium'
const SHOTS = join(REPO_ROOT, 'docs', 'img')
/** What the machine's probe found Chromium needs here: no sandbox as root, no calls home. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')

describe('dashboard in Chromium against real daemons', () => {
  let net: Testnet
  let browser: Browser
  let work: string
  const contexts: BrowserContext[] = []

  before(async () => {
    await access(CHROMIUM).catch(() => {
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); .ci/run does`)
    })
    work = await mkdtemp(join(tmpdir(), 'lateral-dashboard-'))
    await mkdir(SHOTS, { recursive: true })
    net = await createTestnet(3, { bootstrap: 'first' })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  })

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close()
    await net?.stop()
    await rm(work, { recursive: true, force: true })
  })

  /** A fresh browser profile signed in to daemon i through a one-time link. */
  async function openDashboard(i: number): Promise<Page> {
    const ui = await net.cli(i, ['ui', '--no-open', '--json'])
    assert.equal(ui.code, 0, ui.stderr)
    const { url } = JSON.parse(ui.stdout) as { url: string }
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true })
    contexts.push(context)
    const page = await context.newPage()
    const errors: string[] = []
    page.on('pageerror', (err) => errors.push(err.message))
    await page.goto(url)
    await page.getByTestId('peer-id').waitFor()
    assert.deepEqual(errors, [])
    assert.ok(!page.url().includes('login='), 'the one-time code leaves the address bar')
    return page
  }

  async function show(page: Page, view: 'node' | 'peers' | 'files' | 'chat'): Promise<void> {
    await page.click(`[data-nav=${view}]`)
    await page.locator(`[data-view=${view}]`).waitFor()
  }

  let page: Page

  it('without a valid token the page explains how to sign in, and a used link does not work twice', async () => {
    const ui = await net.cli(0, ['ui', '--no-open', '--json'])
    const { url } = JSON.parse(ui.stdout) as { url: string }
    const context = await browser.newContext()
    contexts.push(context)
    const first = await context.newPage()
    await first.goto(url)
    await first.getByTestId('peer-id').waitFor()
    // A stale token (say the daemon's api-token was deleted) is forgotten, and the page says what to do.
    const stale = await browser.newContext()
    contexts.push(stale)
    await stale.addInitScript(() => localStorage.setItem('lateral.token', 'not-the-token'))
    const other = await stale.newPage()
    await other.goto(url.replace(/#.*$/, ''))
    await other.getByTestId('signin').getByText('lateral ui').first().waitFor()
    assert.equal(
      await other.evaluate(() => localStorage.getItem('lateral.token')),
      null,
      'the refused token is dropped',
    )
    // The same link again, in another browser: refused with the registry's words.
    const again = await (await browser.newContext()).newPage()
    contexts.push(again.context())
    await again.goto(url)
    await again.getByTestId('signin').getByText('already used or has expired').waitFor()
  })

  it('the node view shows the right peer ID and addresses', async () => {
    page = await openDashboard(0)
    const id = await net.api<{ peerId: string; addresses: string[] }>(0, '/v1/id')
    assert.equal((await page.getByTestId('peer-id').textContent())?.trim(), id.peerId)
    const shown = await page.getByTestId('addresses').locator('code').allTextContents()
    assert.deepEqual(
      shown.map((a) => a.trim()),
      id.addresses.map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${id.peerId}`)),
    )
    // Peers 1 and 2 bootstrapped from this node: both counted.
    await waitFor(async () => ((await page.getByTestId('connections').textContent()) === '2' ? true : undefined), {
      timeoutMs: 20_000,
      what: 'two connections on the node view',
    })
    assert.match((await page.getByTestId('reachability').textContent()) ?? '', /private/)
    // A few bandwidth samples in the daemon, then one poll of the page that draws them.
    await waitFor(
      async () => ((await net.api<{ samples: unknown[] }>(0, '/v1/bandwidth')).samples.length >= 3 ? true : undefined),
      { timeoutMs: 10_000, what: 'three bandwidth samples' },
    )
    await page.waitForResponse((r) => r.url().endsWith('/v1/bandwidth'))
    await page.screenshot({ path: join(SHOTS, 'node.png') })

    await show(page, 'peers')
    for (const d of net.daemons.slice(1)) await page.locator(`tr[data-peer="${d.peerId}"]`).waitFor()
    await page.screenshot({ path: join(SHOTS, 'peers.png') })
  })

  it('a file added through the page has the CID `lateral add` gives that file', async () => {
    const file = join(work, 'notes.bin')
    await writeFile(file, randomBytes(3 * 1024 * 1024 + 12345))
    await show(page, 'files')
    await page.getByTestId('add-files').setInputFiles(file)
    const done = page.locator('[data-testid=transfer][data-kind=add][data-state=done]')
    await done.waitFor({ timeout: 30_000 })
    const pageCid = await done.getAttribute('data-cid')
    const cli = await net.cli(1, ['add', file, '--json'])
    assert.equal(cli.code, 0, cli.stderr)
    assert.equal(pageCid, (JSON.parse(cli.stdout) as { cid: string }).cid)
    // The staged copy is gone once added; the content is kept and listed.
    await page.locator(`[data-testid=pins] tr[data-cid="${pageCid}"]`).waitFor()
  })

  it('fetching a CID held by two other daemons shows progress, both peers, and the file', async () => {
    const file = join(work, 'video.bin')
    const bytes = randomBytes(24 * 1024 * 1024)
    await writeFile(file, bytes)
    let cid = ''
    for (const i of [1, 2]) {
      const added = await net.cli(i, ['add', file, '--json'])
      assert.equal(added.code, 0, added.stderr)
      cid = (JSON.parse(added.stdout) as { cid: string }).cid
      // Slow the seeders down so the transfer lasts long enough to watch.
      const res = await fetch(`${net.daemons[i]?.info.url}/v1/content/limits`, {
        method: 'POST',
        headers: { authorization: `Bearer ${net.daemons[i]?.info.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ uploadLimit: 3 * 1024 * 1024 }),
      })
      assert.equal(res.status, 200)
    }
    await page.fill('input[name=cid]', cid)
    await page.click('form:has(input[name=cid]) button[type=submit]')
    const running = page.locator(`[data-testid=transfer][data-kind=get][data-cid="${cid}"][data-state=running]`)
    await running.locator('[data-testid=per-peer] tr[data-peer]').first().waitFor({ timeout: 20_000 })
    assert.match((await running.getByTestId('fetch-stats').textContent()) ?? '', /of 24\.0 MiB/)
    // Both peers delivering, while it still runs: the picture the README shows.
    await running.locator('[data-testid=per-peer] tr[data-peer]').nth(1).waitFor({ timeout: 20_000 })
    await page.screenshot({ path: join(SHOTS, 'files.png'), fullPage: true })

    const done = page.locator(`[data-testid=transfer][data-kind=get][data-cid="${cid}"][data-state=done]`)
    await done.waitFor({ timeout: 60_000 })
    const peers = await done
      .locator('[data-testid=per-peer] tr[data-peer]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-peer')))
    assert.deepEqual(peers.sort(), [net.daemons[1]?.peerId, net.daemons[2]?.peerId].sort())

    const [download] = await Promise.all([page.waitForEvent('download'), done.getByTestId('open').click()])
    const saved = join(work, 'downloaded.bin')
    await download.saveAs(saved)
    assert.equal(sha256(await readFile(saved)), sha256(bytes))
  })

  it('a chat message typed in one page appears in a page attached to another daemon', async () => {
    const other = await openDashboard(1)
    for (const p of [page, other]) {
      await show(p, 'chat')
      await p.fill('input[name=topic]', 'lobby')
      await p.click('form:has(input[name=topic]) button[type=submit]')
      await p.locator('input[name=message]').waitFor()
    }
    // Gossipsub needs both ends in each other's view of the topic before a message reaches the other.
    await waitFor(
      async () => {
        const r = await net.api<{ peers: string[] }>(0, '/v1/topics/lobby/peers')
        return r.peers.includes(net.daemons[1]?.peerId ?? '') ? true : undefined
      },
      { timeoutMs: 20_000, what: 'daemon 1 in the lobby topic of daemon 0' },
    )
    const text = `hello from the browser ${randomBytes(4).toString('hex')}`
    await page.fill('input[name=message]', text)
    await page.click('form:has(input[name=message]) button[type=submit]')
    await other.getByTestId('messages').getByText(text).waitFor({ timeout: 20_000 })
    await other.fill('input[name=message]', 'and hello back')
    await other.click('form:has(input[name=message]) button[type=submit]')
    await page.getByTestId('messages').getByText('and hello back').waitFor({ timeout: 20_000 })
    // The sender sees its own message once, marked as its own.
    assert.equal(await page.locator('[data-testid=message].mine').getByText(text).count(), 1)
    await page.screenshot({ path: join(SHOTS, 'chat.png') })
  })

  it('a stopped daemon shows the unreachable state; restarted, the page recovers without a reload', async () => {
    await show(page, 'node')
    await page.evaluate(() => {
      ;(globalThis as unknown as { marker: number }).marker = 42
    })
    const port = net.daemons[0]?.info.port as number
    await net.kill(0)
    await page.getByTestId('unreachable').waitFor({ timeout: 15_000 })
    assert.equal(await page.getByTestId('daemon-state').getAttribute('data-state'), 'unreachable')
    await page.screenshot({ path: join(SHOTS, 'unreachable.png') })

    await net.restart(0, { args: ['--api', `127.0.0.1:${port}`] })
    await page.getByTestId('unreachable').waitFor({ state: 'detached', timeout: 20_000 })
    assert.equal(await page.getByTestId('daemon-state').getAttribute('data-state'), 'online')
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 42, 'no reload')
    assert.equal((await page.getByTestId('peer-id').textContent())?.trim(), net.daemons[0]?.peerId)
    // Views reload after the outage: the peers come back into the table.
    await show(page, 'peers')
    await page.locator('[data-testid=peers-table] tr[data-peer]').first().waitFor({ timeout: 20_000 })
  })

  it("a peer's Disconnect button hangs up on it", async () => {
    await show(page, 'peers')
    const peer = net.daemons[1]?.peerId as string
    const row = page.locator(`[data-testid=peers-table] tr[data-peer="${peer}"]`)
    await row.waitFor({ timeout: 20_000 })
    const heard = waitFor(
      async () =>
        (await net.api<{ peers: PeerConnection[] }>(1, '/v1/peers')).peers.some(
          (p) => p.peerId === net.daemons[0]?.peerId,
        )
          ? undefined
          : true,
      { timeoutMs: 15_000, intervalMs: 50, what: 'daemon 1 to see daemon 0 hang up' },
    )
    await row.getByTestId('disconnect').click()
    await row.waitFor({ state: 'detached', timeout: 15_000 })
    await heard
  })
})
