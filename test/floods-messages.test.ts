/** Topic spam, direct-message spam and DHT query floods; see floods-streams.test.ts. */
import { test } from 'node:test'
import { floodSuite } from './helpers/flood-suite.ts'
import { FLOOD_KINDS } from './helpers/flooder.ts'

floodSuite(
  test,
  FLOOD_KINDS.filter((k) => k === 'topic' || k === 'dm' || k === 'dht'),
)
