/**
 * NAT lab: a public host with a public host and with a home NAT: direct (the NATed side dials the
 * public one); AutoNAT's verdicts, the relay service ('auto') and `lateral doctor`'s NAT kind for
 * every host. Needs root (CI runs as root and must run it). See test/helpers/natlab-pairs.ts.
 */
import { pairsSuite } from './helpers/natlab-pairs.ts'

await pairsSuite({
  title: 'a public host with a public host and a home NAT',
  hosts: [
    { name: 'pub1', kind: 'public' },
    { name: 'pub2', kind: 'public' },
    { name: 'home1', kind: 'home' },
  ],
  pairs: [
    ['pub1', 'pub2', 'direct'],
    ['pub1', 'home1', 'direct'],
  ],
  helpers: true,
  verdicts: true,
})
