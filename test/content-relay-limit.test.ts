/**
 * Bulk data and relay data limits (issue 15): which connection a bulk stream uses
 * (pickBulkConnection). An end-to-end test through a 4 MiB relay was removed: across runs 2.1 to
 * 4.2 MB went over the relay before the download paused, it passed with the budget turned off,
 * and its assertions failed in clean-clone CI runs (docs/reachability.md says what is not
 * understood).
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type { FetchProgress } from '../src/content/fetch-progress.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { pickBulkConnection } from '../src/net/protocols.ts'
import type { ConfigOverrides } from '../src/node/config.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'
import { waitFor } from '../src/testing/wait.ts'

const MiB = 1024 * 1024
const LIMIT = 4 * MiB
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of it) parts.push(chunk)
  return Buffer.concat(parts)
}

async function node(config: ConfigOverrides = {}): Promise<LateralNode> {
  return createNode({
    key: generateDeviceKey(),
    config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, bootstrap: [], metrics: false, ...config },
  })
}

describe('bulk data and relay data limits', { timeout: 90_000 }, () => {
  it('pickBulkConnection: direct first, then an unlimited relay, then a limited one only above the reserve', () => {
    const conn = (addr: string, bytes?: bigint) => ({
      remoteAddr: { toString: () => addr },
      ...(bytes === undefined ? {} : { limits: { bytes } }),
    })
    const direct = conn('/ip4/1.2.3.4/tcp/1')
    const openRelay = conn('/ip4/5.6.7.8/tcp/1/p2p/R/p2p-circuit')
    const limited = conn('/ip4/5.6.7.8/tcp/1/p2p/R/p2p-circuit', BigInt(4 * MiB))
    const spent = conn('/ip4/5.6.7.9/tcp/1/p2p/S/p2p-circuit', BigInt(MiB / 2))
    // biome-ignore lint/suspicious/noExplicitAny: minimal connection shapes
    const pick = (cs: any[]) => pickBulkConnection(cs)
    assert.equal(pick([limited, openRelay, direct]), direct)
    assert.equal(pick([limited, openRelay]), openRelay)
    assert.equal(pick([spent, limited]), limited)
    assert.equal(pick([spent]), undefined)
  })
})
