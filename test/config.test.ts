// config.json declared once: defaults, validation naming the key, merge order, and the one start loop.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { DEFAULT_CONTENT } from '../src/core/constants.ts'
import { ConfigError } from '../src/core/errors.ts'
import { silentLogger } from '../src/core/logger.ts'
import { defineService } from '../src/core/service.ts'
import { count, section } from '../src/core/settings.ts'
import { dhtRpcTimeouts } from '../src/net/libp2p-options.ts'
import { defaultConfig, loadConfig, mergeConfig, validateConfig } from '../src/node/config.ts'
import { startServices } from '../src/node/lifecycle.ts'

describe('config', () => {
  it('defaults come from the schema of each section', () => {
    const config = defaultConfig()
    for (const [key, value] of Object.entries(DEFAULT_CONTENT))
      assert.equal(config.content[key as keyof typeof DEFAULT_CONTENT], value, key)
    assert.equal(config.api, '127.0.0.1:5980')
    assert.equal(config.dht.mode, 'server')
    assert.equal(config.messaging.outboxCap, 1000)
  })

  it('errors name the bad key, nested or not', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ mdsn: true }, /unknown setting "mdsn"/],
      [{ content: { uploadSlotz: 3 } }, /unknown setting "content.uploadSlotz"/],
      [{ content: { uploadSlots: 0 } }, /invalid value for "content.uploadSlots": 0/],
      [{ dht: { mode: 'auto' } }, /invalid value for "dht.mode": "auto" \(expected one of "server", "client"\)/],
      [{ listen: ['/ip4/0.0.0.0/tcp/1', 5] }, /invalid value for "listen"/],
      [{ api: 'localhost' }, /invalid value for "api": "localhost" \(expected host:port/],
      [{ encrypters: [] }, /invalid value for "encrypters"/],
      [{ messaging: 'x' }, /invalid value for "messaging": "x"/],
      [[], /expected a JSON object/],
    ]
    for (const [value, message] of cases) {
      assert.throws(
        () => validateConfig(value, 'config.json'),
        (err: Error) => {
          assert.ok(err instanceof ConfigError, String(err))
          assert.match(err.message, message)
          assert.match(err.message, /^config\.json: /)
          return true
        },
      )
    }
  })

  it('a DHT request timeout maximum below its minimum is refused, naming both settings', () => {
    assert.deepEqual(dhtRpcTimeouts({}), { minTimeout: 5_000, maxTimeout: 60_000 })
    assert.deepEqual(dhtRpcTimeouts({ dhtRpcMinTimeoutMs: 2_000, dhtRpcMaxTimeoutMs: 2_000 }), {
      minTimeout: 2_000,
      maxTimeout: 2_000,
    })
    assert.throws(
      () => dhtRpcTimeouts({ dhtRpcMinTimeoutMs: 5_000, dhtRpcMaxTimeoutMs: 1_000 }),
      (err: Error) =>
        err instanceof ConfigError && /dht\.rpcMaxTimeoutMs \(1000\).*dht\.rpcMinTimeoutMs \(5000\)/.test(err.message),
    )
  })

  it('file values over defaults, flags over the file; flags are checked too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lateral-config-'))
    try {
      const path = join(dir, 'config.json')
      await writeFile(path, JSON.stringify({ content: { uploadLimit: 5 }, mdns: false }))
      const file = await loadConfig(path)
      assert.equal(file.content.uploadLimit, 5)
      assert.equal(file.content.uploadSlots, 8)
      assert.equal(file.mdns, false)
      const merged = mergeConfig(file, { content: { downloadLimit: 7 }, mdns: true })
      assert.deepEqual([merged.content.uploadLimit, merged.content.downloadLimit, merged.mdns], [5, 7, true])
      assert.throws(() => mergeConfig(file, { connections: { max: -1 } }), /invalid value for "connections.max": -1/)
      await writeFile(path, '{ not json')
      await assert.rejects(loadConfig(path), /is not valid JSON/)
      assert.deepEqual(await loadConfig(join(dir, 'missing.json')), defaultConfig())
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('service start loop', () => {
  const log = silentLogger.forComponent('test')
  const traced = (name: string, trace: string[], fail = false) =>
    defineService({
      name,
      config: section(name, { n: count('n', 1) }),
      events: [],
      create: (components: { seen?: string[] }) => {
        components.seen?.push(name)
        return {
          start: () => {
            trace.push(`start ${name}`)
            if (fail) throw new Error(`${name} broke`)
          },
          stop: () => {
            trace.push(`stop ${name}`)
          },
        }
      },
    })

  it('starts in order, hands later services the earlier ones, stops in reverse', async () => {
    const trace: string[] = []
    let handed: unknown
    const second = defineService({
      name: 'b',
      config: section('b', {}),
      events: [],
      create: (c: { a: unknown }) => {
        handed = c.a
        return { start: () => void trace.push('start b'), stop: () => void trace.push('stop b') }
      },
    })
    const services = await startServices([traced('a', trace), second], {}, { a: { n: 1 }, b: {} }, log)
    assert.equal(handed, services.instances.a)
    await services.stop()
    await services.stop()
    assert.deepEqual(trace, ['start a', 'start b', 'stop b', 'stop a'])
  })

  it('a failed start stops what started, in reverse, and gives the error back', async () => {
    const trace: string[] = []
    await assert.rejects(
      startServices(
        [traced('a', trace), traced('b', trace), traced('c', trace, true), traced('d', trace)],
        {},
        {},
        log,
      ),
      /c broke/,
    )
    assert.deepEqual(trace, ['start a', 'start b', 'start c', 'stop c', 'stop b', 'stop a'])
  })
})
