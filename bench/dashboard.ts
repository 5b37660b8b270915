/**
 * `npm run bench -- dashboard [--rounds N]`: what a user waits for when opening the dashboard.
 * - bundle: every file of dist/web, raw and gzip (what the daemon sends to a browser that asks);
 * - load: a daemon with two peers; Debian's Chromium opens a fresh sign-in link in a new
 *   profile each round; time from navigation to the node view showing the peer ID (sign-in
 *   trade, script, first API calls), and the browser's DOMContentLoaded (median of N, cold cache).
 * JSON to bench/results/dashboard.json.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { chromium } from 'playwright-core'
import { createTestnet } from '../src/testing/testnet.ts'
import { median } from './lib/stats.ts'

const here = dirname(fileURLToPath(import.meta.url))
const WEB = join(here, '..', 'dist', 'web')

function bundle(): Array<{ file: string; bytes: number; gzipBytes: number }> {
  const out: Array<{ file: string; bytes: number; gzipBytes: number }> = []
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else {
        const body = readFileSync(path)
        out.push({ file: relative(WEB, path), bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length })
      }
    }
  }
  walk(WEB)
  return out.sort((a, b) => b.bytes - a.bytes)
}

export async function benchDashboard(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { rounds: { type: 'string', default: '7' } } })
  const rounds = Number(values.rounds)
  const files = bundle()
  const net = await createTestnet(3, { bootstrap: 'first' })
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  })
  const firstView: number[] = []
  const domContentLoaded: number[] = []
  try {
    for (let i = 0; i < rounds; i++) {
      const { url } = JSON.parse((await net.cli(0, ['ui', '--no-open', '--json'])).stdout) as { url: string }
      const context = await browser.newContext()
      const page = await context.newPage()
      const t0 = performance.now()
      await page.goto(url)
      await page.getByTestId('peer-id').waitFor()
      firstView.push(performance.now() - t0)
      domContentLoaded.push(
        // Runs in the page, where navigation timing exists.
        await page.evaluate(
          () =>
            (performance.getEntriesByType('navigation' as never)[0] as unknown as { domContentLoadedEventEnd: number })
              .domContentLoadedEventEnd,
        ),
      )
      await context.close()
    }
  } finally {
    await browser.close()
    await net.stop()
  }
  const result = {
    date: new Date().toISOString(),
    rounds,
    bundle: {
      files,
      totalBytes: files.reduce((n, f) => n + f.bytes, 0),
      totalGzipBytes: files.reduce((n, f) => n + f.gzipBytes, 0),
    },
    load: {
      firstViewMsMedian: Math.round(median(firstView)),
      firstViewMs: firstView.map(Math.round),
      domContentLoadedMsMedian: Math.round(median(domContentLoaded)),
    },
  }
  writeFileSync(join(here, 'results', 'dashboard.json'), `${JSON.stringify(result, null, 2)}\n`)
  process.stdout.write(
    [
      `bundle: ${(result.bundle.totalBytes / 1024).toFixed(1)} KiB, ${(result.bundle.totalGzipBytes / 1024).toFixed(1)} KiB gzip`,
      ...files.map((f) => `  ${f.file}: ${(f.bytes / 1024).toFixed(1)} KiB (${(f.gzipBytes / 1024).toFixed(1)} gzip)`),
      `first view (sign-in link -> peer ID shown), median of ${rounds}: ${result.load.firstViewMsMedian} ms (${result.load.firstViewMs.join(', ')})`,
      `DOMContentLoaded, median: ${result.load.domContentLoadedMsMedian} ms`,
      'bench/results/dashboard.json',
    ].join('\n') + '\n',
  )
}
