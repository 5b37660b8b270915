/**
 * NAT lab: hard and carrier NATs with each other: relayed (docs/reachability.md). Needs root.
 * See test/helpers/natlab-pairs.ts.
 */
import { pairsSuite } from './helpers/natlab-pairs.ts'

await pairsSuite({
  title: 'hard and carrier NATs with each other',
  hosts: [
    { name: 'hard1', kind: 'hard' },
    { name: 'hard2', kind: 'hard' },
    { name: 'carrier1', kind: 'carrier' },
    { name: 'carrier2', kind: 'carrier' },
  ],
  pairs: [
    ['hard1', 'hard2', 'relayed'],
    ['hard1', 'carrier1', 'relayed'],
    ['carrier1', 'carrier2', 'direct'],
  ],
})
