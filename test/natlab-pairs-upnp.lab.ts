/**
 * NAT lab: a host whose home router maps its port by UPnP, with a hard NAT (which no punch gets
 * through): direct, the hard side dialling the mapped address once AutoNAT has confirmed it.
 * Needs root. See test/helpers/natlab-pairs.ts.
 */
import { pairsSuite } from './helpers/natlab-pairs.ts'

await pairsSuite({
  title: 'a UPnP-mapped host with a hard NAT',
  hosts: [
    { name: 'hard1', kind: 'hard' },
    { name: 'upnp1', kind: 'upnp' },
  ],
  pairs: [['hard1', 'upnp1', 'direct']],
  // AutoNAT confirms the mapped address before it is announced: helpers on distinct /8s.
  helpers: true,
})
