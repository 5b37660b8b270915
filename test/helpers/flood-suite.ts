/** The flood tests' shared body (test/floods-*.test.ts). */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { test as nodeTest } from 'node:test'
import { createTestnet, type Testnet } from '../../src/testing/testnet.ts'
import { addHonestFile, runFlood } from './flood-scenario.ts'
import type { FloodKind } from './flooder.ts'

/**
 * How far the target's RSS may rise above its level before the flood. The node's own limits put
 * the worst case for one peer at 4 connections x 256 streams x a 256 KiB receive window
 * (256 MiB) if every window filled before the peer is banned; what the floods reach in practice
 * (docs/resilience.md) is under 40 MiB, and before the peer guard the wants flood alone
 * took the daemon from ~185 to ~630 MiB. 150 MiB leaves room for the honest transfer's buffers
 * and for V8's heap growth on a loaded machine without hiding a leak of that size.
 */
export const FLOOD_RSS_GROWTH_MIB = 150

export function floodSuite(test: typeof nodeTest, kinds: FloodKind[]): void {
  // One testnet for the file: each flood comes from a fresh flooder identity, so one flood's ban
  // does not touch the next.
  let net: Testnet | undefined
  let file: { cid: string; path: string } | undefined
  const dir = mkdtempSync(join(tmpdir(), 'lateral-flood-test-'))
  test.after(async () => {
    await net?.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  for (const kind of kinds) {
    test(`${kind} flood: honest work completes, the flooder is banned, memory stays bounded`, async (t) => {
      net ??= await createTestnet(2, { bootstrap: 'first' })
      file ??= await addHonestFile(net, dir, 4 * 1024 * 1024)
      const o = await runFlood(net, kind, { ...file, outDir: dir }, { durationMs: 10_000, stopAfterRefusals: 5 })
      const { samples: _, ...summary } = o
      t.diagnostic(JSON.stringify(summary))
      // Every message carries the summary: a failure in CI is read from the end of a long log.
      const why = (what: string) => `${what}: ${JSON.stringify(summary)}`
      assert.ok(o.flood.connectionsOpened > 0 && o.flood.streamsOpened + o.flood.messagesSent > 0, why('the flood ran'))
      assert.ok(o.honestGetOk, why('the honest get completed with the right bytes'))
      assert.equal(o.chatReceived, o.chatSent, why('every chat line arrived'))
      assert.equal(o.chatSent, 10, why('every chat line was sent'))
      assert.ok(o.banned, why('the target logged the flooder as banned'))
      assert.ok(o.disconnected, why('the flooder is no longer connected'))
      assert.ok(o.refusedAfter, why('a fresh dial from the flooder is refused'))
      assert.ok(
        o.rssPeakMiB - o.rssBeforeMiB < FLOOD_RSS_GROWTH_MIB,
        why(`RSS rose ${Math.round(o.rssPeakMiB - o.rssBeforeMiB)} MiB (from ${Math.round(o.rssBeforeMiB)})`),
      )
    })
  }
}
