// /lateral/identity/1.0.0: logs served by identity ID in bounded frames, unknown logs said so,
// malformed requests penalised (the entries themselves are verified by the identity log).
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { encodeFrame } from '../src/core/framing.ts'
import { silentLogger } from '../src/core/logger.ts'
import { LogSync } from '../src/identity/sync/log-sync.ts'
import { IDENTITY_PROTOCOL, SYNC_ENTRIES_PER_FRAME } from '../src/identity/sync/messages.ts'
import { waitFor } from '../src/testing/wait.ts'
import { type MessagingPeers, messagingPeers } from './helpers/messaging-peers.ts'

const ID = 'bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
const log = silentLogger.forComponent('test')

describe('identity log sync', () => {
  let peers: MessagingPeers
  const syncs: LogSync[] = []
  beforeEach(() => {
    peers = messagingPeers()
  })
  afterEach(async () => {
    for (const s of syncs.splice(0)) await s.stop()
    await peers.stop()
  })

  it('serves every entry of a kept log in frames, in order, and says when a log is unknown', async () => {
    const server = await peers.add({ messaging: false })
    const client = await peers.add({ messaging: false })
    await peers.connect(client, server)
    const entries = Array.from({ length: SYNC_ENTRIES_PER_FRAME * 2 + 7 }, (_, i) => new Uint8Array([i % 256, 1, 2]))
    const served = new LogSync(
      {},
      { net: server.net, log, source: { entriesOf: (id) => (id === ID ? entries : undefined) } },
    )
    const asking = new LogSync({}, { net: client.net, log, source: { entriesOf: () => undefined } })
    syncs.push(served, asking)
    await served.start()
    await asking.start()
    const got = await asking.fetch(server.signer.peerId, ID)
    assert.deepEqual(got, entries)
    const other = 'bafyreidykglsfhoixmivffc5uwhcgshx4j465xwqntbmu43nb2dzqwfvae'
    assert.equal(await asking.fetch(server.signer.peerId, other), undefined)
  })

  it('refuses an answer longer than the entry bound', async () => {
    const server = await peers.add({ messaging: false })
    const client = await peers.add({ messaging: false })
    await peers.connect(client, server)
    const entries = Array.from({ length: 50 }, () => new Uint8Array([1]))
    const served = new LogSync({}, { net: server.net, log, source: { entriesOf: () => entries } })
    const asking = new LogSync({ maxEntries: 20 }, { net: client.net, log, source: { entriesOf: () => undefined } })
    syncs.push(served)
    await served.start()
    await assert.rejects(asking.fetch(server.signer.peerId, ID), /more than 20 entries/)
  })

  it('penalises a malformed request and keeps serving others', async () => {
    const server = await peers.add({ messaging: false })
    const client = await peers.add({ messaging: false })
    await peers.connect(client, server)
    const served = new LogSync({}, { net: server.net, log, source: { entriesOf: () => [] } })
    syncs.push(served)
    await served.start()
    const stream = await client.net.openStream(server.signer.peerId, IDENTITY_PROTOCOL)
    await stream.write(encodeFrame(new TextEncoder().encode('not cbor at all')))
    await waitFor(() => server.net.penalty(client.signer.peerId) > 0, { what: 'the penalty', timeoutMs: 5_000 })
    const asking = new LogSync({}, { net: client.net, log, source: { entriesOf: () => undefined } })
    assert.deepEqual(await asking.fetch(server.signer.peerId, ID), [])
  })
})
