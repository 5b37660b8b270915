// Which of our addresses reachability calls public (net/reachability.ts): the special and
// documentation ranges libp2p treats as private never are, though libp2p marks our listen
// addresses there as verified; before, a node listening on 192.0.2.2 called itself public,
// "dialled back by peers in other networks", with no peer at all (seen with `lateral doctor`).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { isSpecialIpv4, reachabilityReport } from '../src/net/reachability.ts'

const report = (address: string) =>
  reachabilityReport({
    addresses: [{ multiaddr: multiaddr(address), verified: true, type: 'transport', expires: 0 } as never],
    announced: [],
    observed: [],
    upnp: { enabled: false, mappings: [] },
    relayServer: { enabled: false, reservations: 0 },
    punch: { enabled: false, attempted: 0, succeeded: 0, failed: 0 },
  })

describe('public addresses', () => {
  it('a verified listen address in a special or documentation range is not public; a routable one is', () => {
    for (const host of [
      '192.0.2.2',
      '198.51.100.7',
      '203.0.113.9',
      '198.18.0.1',
      '198.19.255.1',
      '192.0.0.8',
      '192.88.99.1',
    ]) {
      assert.equal(isSpecialIpv4(host), true, host)
    }
    for (const host of ['11.0.0.2', '8.8.8.8', '192.0.3.1', '198.20.0.1', '10.0.0.1']) {
      assert.equal(isSpecialIpv4(host), false, host)
    }
    assert.equal(report('/ip4/192.0.2.2/tcp/4001').reachability, 'private')
    assert.equal(report('/ip4/11.0.0.2/tcp/4001').reachability, 'public')
  })
})
