/**
 * The Storage view end to end (issue 12): two daemon processes and Debian's Chromium. Ada (0)
 * grants Bob's box (1) store/put and adds a file through the CLI; from her page she has Bob keep
 * it, checks it (proven, with its round trip), sees Bob's page list it under what Bob keeps for
 * others with the quota used, then drops it and both pages empty. Screenshot: docs/img/storage.png.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext } from 'playwright-core'
import type { DelegationView } from '../src/delegation/views.ts'
import { createTestnet, REPO_ROOT, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'
import { launchChromium, openDashboard, show } from './helpers/dashboard-page.ts'

const SHOTS = join(REPO_ROOT, 'docs', 'img')
const STEP_MS = 30_000

describe('storage view in Chromium against real daemons', () => {
  let net: Testnet
  let browser: Browser
  let dir: string
  const contexts: BrowserContext[] = []

  before(async () => {
    await mkdir(SHOTS, { recursive: true })
    dir = await mkdtemp(join(tmpdir(), 'lateral-storage-ui-'))
    net = await createTestnet(2, {
      bootstrap: 'first',
      config: { delegation: { sweepIntervalMs: 500 }, storage: { checkMeanMs: 0 } },
    })
    browser = await launchChromium()
  })

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close()
    await net?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps a file on a peer from the page, checks it, shows it on both sides, drops it', async () => {
    const bob = net.daemons[1]?.peerId as string
    const g = await net.cli(0, [
      'delegate',
      'grant',
      bob,
      '--can',
      'store/put',
      '--quota',
      '8MiB',
      '--until',
      '30d',
      '--json',
    ])
    assert.equal(g.code, 0, g.stderr)
    const [grant] = JSON.parse(g.stdout) as DelegationView[]
    await waitFor(
      async () =>
        (await net.api<{ delegations: DelegationView[] }>(1, '/v1/delegations?direction=received')).delegations.some(
          (d) => d.cid === grant?.cid && d.state === 'active',
        ),
      { what: 'the grant at the keeper', timeoutMs: STEP_MS },
    )
    const path = join(dir, 'photo.bin')
    await writeFile(path, randomBytes(2_000_000))
    const added = await net.cli(0, ['add', path, '--json'])
    assert.equal(added.code, 0, added.stderr)
    const { cid } = JSON.parse(added.stdout) as { cid: string }

    const owner = await openDashboard(browser, net, 0)
    const keeper = await openDashboard(browser, net, 1)
    contexts.push(owner.context, keeper.context)
    const a = owner.page
    const b = keeper.page
    await show(a, 'storage')
    await show(b, 'storage')

    await a.fill('[data-testid=put-form] input[name=cid]', cid)
    await a.fill('[data-testid=put-form] input[name=on]', bob)
    await a.click('[data-testid=put-form] button[type=submit]')
    await a.getByTestId('put-result').filter({ hasText: 'kept' }).waitFor({ timeout: STEP_MS })
    const row = a.locator(`[data-testid=placed] tr[data-cid="${cid}"]`)
    await row.waitFor({ timeout: STEP_MS })
    assert.match(await row.innerText(), /1\.9 MiB[\s\S]*not checked yet/)

    await row.getByRole('button', { name: 'Check now' }).click()
    await row
      .getByTestId('last-check')
      .filter({ hasText: /proven · [\d.]+ ms/ })
      .waitFor({ timeout: STEP_MS })
    assert.notEqual(await row.getByTestId('last-proven').innerText(), '–')

    const kept = b.locator(`[data-testid=kept-for] tr`).filter({ hasText: 'active until' })
    await kept.waitFor({ timeout: STEP_MS })
    assert.match(await kept.innerText(), /1\.9 MiB of 8\.0 MiB/)
    await a.screenshot({ path: join(SHOTS, 'storage.png'), fullPage: true })

    await row.getByRole('button', { name: 'Drop' }).click()
    await row.waitFor({ state: 'detached', timeout: STEP_MS })
    await b.getByText('This node keeps nothing for others.').waitFor({ timeout: STEP_MS })
    assert.deepEqual([...owner.errors, ...keeper.errors], [])
  })
})
