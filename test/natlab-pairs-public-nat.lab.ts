/**
 * NAT lab: a public host with a hard NAT and with a carrier NAT: direct (the NATed side dials the
 * public one); AutoNAT's verdicts, the relay service ('auto') and `lateral doctor`'s NAT kind for
 * every host. Needs root (CI runs as root and must run it). See test/helpers/natlab-pairs.ts.
 */
import { pairsSuite } from './helpers/natlab-pairs.ts'

await pairsSuite({
  title: 'a public host with a hard NAT and a carrier NAT',
  hosts: [
    { name: 'pub1', kind: 'public' },
    { name: 'hard1', kind: 'hard' },
    { name: 'carrier1', kind: 'carrier' },
  ],
  pairs: [
    ['pub1', 'hard1', 'direct'],
    ['pub1', 'carrier1', 'direct'],
  ],
  helpers: true,
  verdicts: true,
})
