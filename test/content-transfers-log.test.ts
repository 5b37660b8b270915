/**
 * A failed transfer is logged with its ID and cause (issue 10, defect 10): the API tells the
 * user to see the daemon log, and the log has it.
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import pino from 'pino'
import { NoProvidersError } from '../src/core/errors.ts'
import type { LogFields, Logger } from '../src/core/logger.ts'
import { buildApi } from '../src/daemon/api.ts'
import { Transfers, type TransferView } from '../src/daemon/transfers.ts'
import type { LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'

interface Record {
  level: string
  message: string
  fields: LogFields
}

function capture(): { log: Logger; records: Record[] } {
  const records: Record[] = []
  const at =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      records.push({ level, message, fields })
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, records }
}

const hub = { publish: () => {} }

describe('transfer failures are logged', () => {
  it('an ordinary failure: a warning with the transfer ID, kind, CID and cause', async () => {
    const { log, records } = capture()
    const transfers = new Transfers(hub, log)
    const view = await transfers.start({ kind: 'get', cid: 'bafkqaaa' }, async () => {
      throw new NoProvidersError('no peer provides bafkqaaa: asked 0 connected peer(s) and the DHT for 1 s')
    })
    await waitFor(() => transfers.get(view.id).state !== 'running', { what: 'the transfer to end' })
    assert.equal(transfers.get(view.id).state, 'failed')
    const entry = records.find((r) => r.fields.transferId === view.id)
    assert.ok(entry !== undefined, 'a log entry names the transfer')
    assert.equal(entry.level, 'warn')
    assert.equal(entry.fields.kind, 'get')
    assert.equal(entry.fields.cid, 'bafkqaaa')
    assert.deepEqual(entry.fields.err, { name: 'NoProvidersError', message: transfers.get(view.id).error?.message })
  })

  it('an unexpected failure: an error with the stack, and the user is pointed at the transfer in the log', async () => {
    const { log, records } = capture()
    const transfers = new Transfers(hub, log)
    const view = await transfers.start({ kind: 'add', path: '/tmp/x' }, async () => {
      throw new TypeError('cannot read properties of undefined')
    })
    await waitFor(() => transfers.get(view.id).state !== 'running', { what: 'the transfer to end' })
    const error = transfers.get(view.id).error
    assert.equal(error?.code, 'LAT_ERR_INTERNAL')
    assert.match(error?.message ?? '', new RegExp(`daemon log.*${view.id}`))
    const entry = records.find((r) => r.fields.transferId === view.id)
    assert.equal(entry?.level, 'error')
    const err = entry?.fields.err as { name: string; message: string; stack?: string }
    assert.equal(err.name, 'TypeError')
    assert.match(err.stack ?? '', /TypeError: cannot read properties of undefined/)
  })

  it("the daemon's content routes log a failed get to the API logger", async (t) => {
    const net = await createMemoryNetwork(1, { content: { providerTimeoutMs: 300 } })
    const lines: Array<{ msg: string; transferId?: string; component?: string; err?: { name: string } }> = []
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line))
        done()
      },
    })
    const node = net.nodes[0] as LateralNode
    const app = await buildApi({ node, token: 'token-0123456789abcdef', logger: pino({ level: 'warn' }, sink) })
    t.after(async () => {
      await app.close()
      await net.stop()
    })
    // A CID nobody has (a hash of bytes never stored).
    const { cid } = await node.content.add([{ path: 'nobody', size: 5, content: [new Uint8Array(5).fill(7)] }], {
      onlyHash: true,
    })
    const res = await app.inject({
      method: 'POST',
      url: `/v1/content/${cid}/get`,
      headers: { authorization: 'Bearer token-0123456789abcdef' },
      payload: { wait: true },
    })
    assert.equal(res.json().error.name, 'NoProvidersError')
    const [view] = (
      await app.inject({ url: '/v1/transfers', headers: { authorization: 'Bearer token-0123456789abcdef' } })
    ).json().transfers as TransferView[]
    await waitFor(() => lines.find((l) => l.transferId === view?.id), { what: 'the log line' })
    const line = lines.find((l) => l.transferId === view?.id)
    assert.equal(line?.component, 'lateral:transfers')
    assert.equal(line?.err?.name, 'NoProvidersError')
  })
})
