/**
 * The Identity view end to end (issue 11): real daemon processes on 127.0.0.1 and Debian's
 * Chromium. Page A on daemon 0 is the new device, page B on daemon 1 the device that adds it;
 * both show the same short string, both confirm, and both then show one identity with two
 * devices. Then contacts (a name in the chat inbox), a refused pairing, and a removal.
 * Screenshots go to docs/img/identity*.png.
 */
import assert from 'node:assert/strict'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { IdentityReply } from '../src/identity/views.ts'
import { createTestnet, REPO_ROOT, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'
import { launchChromium, openDashboard, type SignedInPage, show } from './helpers/dashboard-page.ts'

const SHOTS = join(REPO_ROOT, 'docs', 'img')
const STEP_MS = 30_000

describe('identity view in Chromium against real daemons', () => {
  let net: Testnet
  let browser: Browser
  const contexts: BrowserContext[] = []
  const opened: SignedInPage[] = []
  let a: Page
  let b: Page

  before(async () => {
    await mkdir(SHOTS, { recursive: true })
    net = await createTestnet(3, { bootstrap: 'first' })
    browser = await launchChromium()
  })

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close()
    await net?.stop()
  })

  async function open(i: number): Promise<Page> {
    const signed = await openDashboard(browser, net, i)
    contexts.push(signed.context)
    opened.push(signed)
    await show(signed.page, 'identity')
    return signed.page
  }

  const rows = (page: Page, table: string) => page.locator(`[data-testid=${table}] tr[data-device]`)

  it('links a new device from one page with the code shown on another: same short string, then two devices on both', async () => {
    const before0 = await net.api<IdentityReply>(0, '/v1/identity')
    const before1 = await net.api<IdentityReply>(1, '/v1/identity')
    assert.notEqual(before0.id, before1.id)
    a = await open(0)
    b = await open(1)
    assert.equal((await a.getByTestId('identity-id').textContent())?.trim(), before0.id)

    // A: this is the new device.
    await a.click('[data-link-mode=new-device]')
    await a.fill('input[name=device-name]', 'laptop')
    await a.getByTestId('pairing-start').click()
    const code = ((await a.getByTestId('pairing-code').textContent()) ?? '').trim()
    assert.ok(code.length >= 8, 'a code is shown')
    await a.getByTestId('pairing-qr').waitFor()
    await a.screenshot({ path: join(SHOTS, 'identity-link-code.png') })

    // B: add a new device with that code.
    await b.fill('input[name=pairing-code]', code)
    await b.getByTestId('pairing-join').click()
    const strings = await Promise.all(
      [a, b].map(async (p) => {
        const s = p.getByTestId('short-string')
        await s.waitFor({ timeout: STEP_MS })
        return ((await s.textContent()) ?? '').trim()
      }),
    )
    assert.match(strings[0] ?? '', /^\d{4}-\d{4}-\d{4}$/)
    assert.equal(strings[0], strings[1], 'both screens show the same short string')
    await b.screenshot({ path: join(SHOTS, 'identity-link.png') })

    await a.getByTestId('pairing-match').click()
    await a.getByTestId('pairing-confirmed').waitFor({ timeout: STEP_MS })
    await b.getByTestId('pairing-match').click()
    for (const p of [a, b]) await p.getByTestId('pairing-done').waitFor({ timeout: STEP_MS })

    // Both pages: one identity (B's), two devices, A named as typed.
    for (const p of [a, b]) {
      await waitFor(async () => ((await rows(p, 'devices').count()) === 2 ? true : undefined), {
        timeoutMs: STEP_MS,
        what: 'two devices on the page',
      })
      await waitFor(
        async () => ((await p.getByTestId('identity-id').textContent())?.trim() === before1.id ? true : undefined),
        { timeoutMs: STEP_MS, what: 'the identity of the device that added the new one' },
      )
    }
    const laptop = rows(b, 'devices').and(b.locator(`[data-device="${net.daemons[0]?.peerId}"]`))
    assert.match((await laptop.textContent()) ?? '', /laptop/)
    assert.equal(
      await rows(a, 'devices').and(a.locator('[data-self=yes]')).getAttribute('data-device'),
      net.daemons[0]?.peerId,
    )
    for (const i of [0, 1]) {
      const v = await net.api<IdentityReply>(i, '/v1/identity')
      assert.equal(v.id, before1.id)
      assert.deepEqual(v.devices.map((d) => d.peerId).sort(), [net.daemons[0]?.peerId, net.daemons[1]?.peerId].sort())
    }
    // The peers view names the person's other device.
    await show(a, 'peers')
    const mine = a.locator(`tr[data-peer="${net.daemons[1]?.peerId}"] [data-testid=my-device]`)
    await mine.waitFor({ timeout: STEP_MS })
    assert.match((await mine.textContent()) ?? '', /my device/)
    await show(a, 'identity')
    assert.deepEqual(
      opened.flatMap((o) => o.errors),
      [],
    )
  })

  it('a contact named on the page names the sender in the chat inbox; the display name reaches the other device', async () => {
    const carol = await net.api<IdentityReply>(2, '/v1/identity')
    await b.fill('input[name=contact-name]', 'carol')
    await b.fill('input[name=contact-identity]', carol.id)
    await b.getByTestId('contact-add').click()
    await b.locator('[data-testid=contacts] li[data-contact=carol]').waitFor({ timeout: STEP_MS })
    // A contact name that is taken is refused with the registry's words.
    await b.fill('input[name=contact-name]', 'carol')
    await b.fill('input[name=contact-identity]', carol.id)
    await b.getByTestId('contact-add').click()
    await b.locator('[data-view=identity] .error').filter({ hasText: 'carol' }).waitFor({ timeout: STEP_MS })

    // A change of carol's log announces its heads; daemon 1 then knows her devices (asked until it does).
    assert.equal((await net.cli(2, ['identity', 'name', 'Carol'])).code, 0)
    // The contact row shows what B's node learnt from carol's log, without a reload (contact:update).
    await b
      .locator('[data-testid=contacts] li[data-contact=carol] [data-profile=known]')
      .filter({ hasText: '“Carol” · 1 device' })
      .waitFor({ timeout: STEP_MS })
    const d1 = net.daemons[1]
    await waitFor(
      async () => {
        const res = await fetch(`${d1?.info.url}/v1/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${d1?.info.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ to: 'carol', text: 'hello carol' }),
        })
        return res.ok ? true : undefined
      },
      { timeoutMs: 45_000, intervalMs: 500, what: "daemon 1 knowing carol's devices" },
    )
    const sent = await net.cli(2, ['msg', 'send', d1?.peerId as string, 'hi from carol', '--json'])
    assert.equal(sent.code, 0, sent.stderr)
    await show(b, 'chat')
    const sender = b.getByTestId('inbox').getByTestId('sender').first()
    await sender.waitFor({ timeout: STEP_MS })
    assert.equal((await sender.textContent())?.trim(), `carol (${short(net.daemons[2]?.peerId as string)})`)
    await show(b, 'identity')

    // The display name set on one device reaches the other device's page (a signed entry, synced).
    await b.getByRole('button', { name: 'Edit' }).click()
    await b.fill('input[name=display-name]', 'Ada')
    await b.getByRole('button', { name: 'Save' }).click()
    await b.getByTestId('display-name').getByText('Ada').waitFor({ timeout: STEP_MS })
    await a.getByTestId('display-name').getByText('Ada').waitFor({ timeout: 45_000 })
    await b.screenshot({ path: join(SHOTS, 'identity.png'), fullPage: true })
  })

  it('"They differ" on one side aborts both pages with the reason, and adds nothing', async () => {
    const c = await open(2)
    const before1 = await net.api<IdentityReply>(1, '/v1/identity')
    await c.click('[data-link-mode=new-device]')
    await c.getByTestId('pairing-start').click()
    const code = ((await c.getByTestId('pairing-code').textContent()) ?? '').trim()
    await b.fill('input[name=pairing-code]', code)
    await b.getByTestId('pairing-join').click()
    await c.getByTestId('short-string').waitFor({ timeout: STEP_MS })
    await b.getByTestId('short-string').waitFor({ timeout: STEP_MS })
    await c.getByTestId('pairing-differ').click()
    for (const p of [b, c]) await p.getByTestId('pairing-aborted').waitFor({ timeout: STEP_MS })
    assert.match((await b.getByTestId('pairing-aborted').textContent()) ?? '', /Linking stopped\..+/)
    const after1 = await net.api<IdentityReply>(1, '/v1/identity')
    assert.equal(after1.entries, before1.entries)
    assert.equal(after1.devices.length, 2)
    assert.equal((await net.api<IdentityReply>(2, '/v1/identity')).devices.length, 1)
    // Start again clears the outcome: the code field is back.
    await b.getByRole('button', { name: 'Start again' }).click()
    await b.locator('input[name=pairing-code]').waitFor()
  })

  it('removes a device from the page (lost or stolen): listed as removed, gone from the devices', async () => {
    const lost = net.daemons[0]?.peerId as string
    const row = b.locator(`[data-testid=devices] tr[data-device="${lost}"]`)
    await row.getByTestId('device-remove').click()
    const confirm = b.getByTestId('remove-confirm')
    await confirm.locator('input[name=lost]').check()
    await b.screenshot({ path: join(SHOTS, 'identity-remove.png') })
    await confirm.getByRole('button', { name: 'Remove laptop' }).click()
    const removed = b.locator(`[data-testid=removed-devices] tr[data-device="${lost}"]`)
    await removed.waitFor({ timeout: STEP_MS })
    assert.match((await removed.textContent()) ?? '', /lost or stolen/)
    await row.waitFor({ state: 'detached', timeout: STEP_MS })
    assert.equal(await rows(b, 'devices').count(), 1)
    const v = await net.api<IdentityReply>(1, '/v1/identity')
    assert.deepEqual(
      v.removed.map((r) => [r.peerId, r.lost]),
      [[lost, true]],
    )
    assert.deepEqual(
      v.devices.map((d) => d.peerId),
      [net.daemons[1]?.peerId],
    )
    await b.screenshot({ path: join(SHOTS, 'identity-removed.png'), fullPage: true })
    assert.deepEqual(
      opened.flatMap((o) => o.errors),
      [],
    )
  })
})

/** As the page shortens a peer ID (web/src/format.ts). */
function short(id: string, keep = 6): string {
  return id.length <= keep * 2 + 1 ? id : `${id.slice(0, keep)}…${id.slice(-keep)}`
}
