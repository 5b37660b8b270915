/**
 * Bulk data and relay data limits (issue 15): which connection a bulk stream uses
 * (pickBulkConnection). An end-to-end test through a 4 MiB relay was removed: across runs 2.1 to
 * 4.2 MB went over the relay before the download paused, it passed with the budget turned off,
 * and its assertions failed in clean-clone CI runs (docs/reachability.md says what is not
 * understood).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pickBulkConnection } from '../src/net/protocols.ts'

const MiB = 1024 * 1024

describe('bulk data and relay data limits', () => {
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
