/**
 * Floods from one hostile peer (test/helpers/flooder.ts) against a real daemon while another
 * daemon fetches a file from it and chats on a topic it reads: the honest work completes, the
 * flooder ends disconnected and banned, and the target's RSS stays within FLOOD_RSS_GROWTH_MIB
 * of where it started. This file: stream floods, wants for missing blocks, junk streams and
 * connection churn; floods-messages.test.ts: topic spam, direct-message spam, DHT queries.
 */
import { test } from 'node:test'
import { floodSuite } from './helpers/flood-suite.ts'
import { FLOOD_KINDS } from './helpers/flooder.ts'

floodSuite(
  test,
  FLOOD_KINDS.filter((k) => k === 'streams' || k === 'wants' || k === 'junk'),
)
