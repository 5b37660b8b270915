/**
 * NAT lab: a home NAT with a home, hard and carrier NAT: relayed (no hole punching between two
 * NATed Node peers, docs/reachability.md). Needs root. See test/helpers/natlab-pairs.ts.
 */
import { pairsSuite } from './helpers/natlab-pairs.ts'

await pairsSuite({
  title: 'a home NAT with a home, hard and carrier NAT',
  hosts: [
    { name: 'home1', kind: 'home' },
    { name: 'home2', kind: 'home' },
    { name: 'hard1', kind: 'hard' },
    { name: 'carrier1', kind: 'carrier' },
  ],
  pairs: [
    ['home1', 'home2', 'direct'],
    ['home1', 'hard1', 'relayed'],
    ['home1', 'carrier1', 'direct'],
  ],
})
