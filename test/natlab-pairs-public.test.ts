/**
 * NAT lab: a public host with each kind of host (public, home NAT, hard NAT, carrier NAT): direct
 * every time (the NATed side dials the public one); AutoNAT's verdicts and `lateral doctor`'s NAT
 * kind for every host. Needs root (CI runs as root and must run it). See test/helpers/natlab-pairs.ts.
 */
import { pairsSuite } from './helpers/natlab-pairs.ts'

await pairsSuite({
  title: 'a public host with each kind of host',
  hosts: [
    { name: 'pub1', kind: 'public' },
    { name: 'pub2', kind: 'public' },
    { name: 'home1', kind: 'home' },
    { name: 'hard1', kind: 'hard' },
    { name: 'carrier1', kind: 'carrier' },
  ],
  pairs: [
    ['pub1', 'pub2', 'direct'],
    ['pub1', 'home1', 'direct'],
    ['pub1', 'hard1', 'direct'],
    ['pub1', 'carrier1', 'direct'],
  ],
  helpers: true,
  verdicts: true,
})
