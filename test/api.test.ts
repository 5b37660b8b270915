import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Validator } from '@seriousme/openapi-schema-validator'
import type { FastifyInstance } from 'fastify'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { ERRORS } from '../src/core/error-registry.ts'
import { buildApi } from '../src/daemon/api.ts'
import { startDaemon } from '../src/daemon/daemon.ts'
import { createKeystore, generateDeviceKey } from '../src/identity/keystore.ts'
import { createNode, type LateralNode } from '../src/node/node.ts'
import { createMemoryNetwork, type MemoryNetwork } from '../src/testing/memory-network.ts'
import { waitFor } from '../src/testing/wait.ts'

const TOKEN = 'test-token-0123456789'
const auth = { authorization: `Bearer ${TOKEN}` }

describe('daemon API (inject)', () => {
  let node: LateralNode
  let peers: MemoryNetwork
  let app: FastifyInstance
  before(async () => {
    node = await createNode({
      key: generateDeviceKey(),
      transport: 'memory',
      config: { listen: [`/memory/api-${process.pid}`], mdns: false, metrics: true },
    })
    peers = await createMemoryNetwork(1)
    app = await buildApi({ node, token: TOKEN })
  })
  after(async () => {
    await app.close()
    await node.stop()
    await peers.stop()
  })

  it('answers /health without a token', async () => {
    const res = await app.inject({ url: '/health' })
    assert.equal(res.statusCode, 200)
    assert.deepEqual(res.json(), { ok: true, peerId: node.peerId })
  })

  it('refuses every other route without the right token, with the registry error', async () => {
    for (const url of ['/v1/id', '/v1/status', '/v1/peers', '/v1/events', '/v1/openapi.json', '/metrics']) {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }]) {
        const res = await app.inject({ url, headers })
        assert.equal(res.statusCode, 401, `${url} ${JSON.stringify(headers)}`)
        assert.equal(res.json().error.code, 'LAT_ERR_UNAUTHORIZED')
        assert.equal(res.json().error.name, 'UnauthorizedError')
      }
    }
    const post = await app.inject({ method: 'POST', url: '/v1/ping', payload: { peer: peers.nodes[0]?.peerId } })
    assert.equal(post.statusCode, 401)
  })

  it('reports id and status', async () => {
    const id = (await app.inject({ url: '/v1/id', headers: auth })).json()
    assert.equal(id.peerId, node.peerId)
    assert.match(id.agentVersion, /^lateral\//)
    assert.ok(id.addresses.length > 0)
    assert.ok(id.protocols.includes('/lateral/kad/1.0.0'))
    const status = (await app.inject({ url: '/v1/status', headers: auth })).json()
    assert.equal(status.dht.mode, 'server')
    assert.equal(typeof status.uptimeMs, 'number')
    assert.equal(status.dataDir, null)
  })

  const post = (url: string, payload: object) => app.inject({ method: 'POST', url, headers: auth, payload })

  it('connects, lists and pings a peer', async () => {
    const other = peers.nodes[0] as LateralNode
    const conn = await post('/v1/peers/connect', { address: other.net.addresses()[0] })
    assert.equal(conn.statusCode, 200, conn.body)
    assert.equal(conn.json().peerId, other.peerId)
    const list = (await app.inject({ url: '/v1/peers', headers: auth })).json()
    assert.deepEqual(
      list.peers.map((p: { peerId: string }) => p.peerId),
      [other.peerId],
    )
    const ping = await app.inject({
      method: 'POST',
      url: '/v1/ping',
      headers: auth,
      payload: { peer: other.peerId, count: 2 },
    })
    assert.equal(ping.statusCode, 200, ping.body)
    assert.equal(ping.json().rttsMs.length, 2)
  })

  it('hangs up on a peer, and says how many connections it closed', async () => {
    const other = peers.nodes[0] as LateralNode
    const heard: string[] = []
    const onDisconnect = (evt: CustomEvent<{ peerId: string }>) => heard.push(evt.detail.peerId)
    other.net.addEventListener('peer:disconnect', onDisconnect)
    try {
      if (!(await node.net.connections()).some((c) => c.peerId === other.peerId))
        await node.net.connect(other.net.addresses()[0] as string)
      const res = await post('/v1/peers/disconnect', { peer: other.peerId })
      assert.equal(res.statusCode, 200, res.body)
      const reply = res.json()
      assert.equal(reply.peerId, other.peerId)
      assert.equal(reply.connections, 1)
      // Refused for the default hold, 10 minutes.
      assert.ok(Math.abs(reply.refusedUntil - (Date.now() + 10 * 60_000)) < 5000, res.body)
      assert.deepEqual((await app.inject({ url: '/v1/peers', headers: auth })).json().peers, [])
      await waitFor(() => heard.includes(node.peerId), { what: 'the other side to see the connection end' })
      assert.deepEqual(await other.net.connections(), [])
      const again = await post('/v1/peers/disconnect', { peer: other.peerId })
      assert.equal(again.json().connections, 0, 'not connected: nothing closed')
      await assert.rejects(node.net.connect(other.peerId, { respectHold: true }), /refused here/, 'held')
      // Connecting to it by name lifts the hold.
      const back = await post('/v1/peers/connect', { address: other.net.addresses()[0] })
      assert.equal(back.statusCode, 200, back.body)
    } finally {
      other.net.removeEventListener('peer:disconnect', onDisconnect)
    }
  })

  it('maps bad input and unknown routes to registry errors', async () => {
    const cases = [
      {
        method: 'POST' as const,
        url: '/v1/peers/connect',
        payload: { address: 'not-a-multiaddr' },
        status: 400,
        code: 'LAT_ERR_INVALID_INPUT',
      },
      {
        method: 'POST' as const,
        url: '/v1/peers/connect',
        payload: { wrong: 1 },
        status: 400,
        code: 'LAT_ERR_INVALID_INPUT',
      },
      {
        method: 'POST' as const,
        url: '/v1/ping',
        payload: { peer: 'x', count: 1000 },
        status: 400,
        code: 'LAT_ERR_INVALID_INPUT',
      },
      { method: 'POST' as const, url: '/v1/ping', payload: '{not json', status: 400, code: 'LAT_ERR_INVALID_INPUT' },
      {
        method: 'POST' as const,
        url: '/v1/peers/disconnect',
        payload: { peer: 'not-a-peer-id' },
        status: 400,
        code: 'LAT_ERR_INVALID_INPUT',
      },
      { method: 'GET' as const, url: '/v1/nope', status: 404, code: 'LAT_ERR_NOT_FOUND' },
      {
        method: 'POST' as const,
        url: '/v1/peers/connect',
        payload: { address: '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWGzh5Q4rLjMYW1CPmydXYMJYDgZNZFaBgyw9SdGgrGqAz' },
        status: 502,
        code: 'LAT_ERR_PEER_UNREACHABLE',
      },
    ]
    for (const c of cases) {
      const res = await app.inject({
        method: c.method,
        url: c.url,
        headers: { ...auth, 'content-type': 'application/json' },
        ...(c.payload === undefined ? {} : { payload: c.payload }),
      })
      assert.equal(res.statusCode, c.status, `${c.url}: ${res.body}`)
      const body = res.json()
      assert.equal(body.error.code, c.code, res.body)
      assert.equal(ERRORS[body.error.name]?.code, c.code, 'name and code agree with the registry')
      assert.equal(typeof body.error.message, 'string')
    }
  })

  it('serves an OpenAPI document that validates and lists every route', async () => {
    const res = await app.inject({ url: '/v1/openapi.json', headers: auth })
    assert.equal(res.statusCode, 200)
    const doc = res.json()
    const result = await new Validator().validate(doc)
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2))
    for (const path of [
      '/health',
      '/v1/id',
      '/v1/status',
      '/v1/peers',
      '/v1/peers/connect',
      '/v1/ping',
      '/v1/events',
      '/metrics',
    ]) {
      assert.ok(doc.paths[path] !== undefined, `missing ${path}`)
    }
  })

  it('serves /metrics in Prometheus text format with libp2p and process metrics', async () => {
    const res = await app.inject({ url: '/metrics', headers: auth })
    assert.equal(res.statusCode, 200)
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/)
    const families = parsePrometheusTextFormat(res.body)
    const names = new Set(families.map((f) => f.name))
    assert.ok(names.has('process_cpu_user_seconds_total'), 'process metrics')
    assert.ok(
      [...names].some((n) => n.startsWith('libp2p_')),
      'libp2p metrics',
    )
  })
})

describe('daemon over a real socket', () => {
  let home: string
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'lateral-daemon-'))
    await createKeystore(home, { kdf: { logN: 10 } })
  })
  after(async () => {
    await rm(home, { recursive: true, force: true })
  })

  it('writes api.json (0600) when ready, streams events, refuses a second daemon, cleans up on stop', async () => {
    const config = { listen: ['/ip4/127.0.0.1/tcp/0'], api: '127.0.0.1:0', mdns: false }
    const daemon = await startDaemon({ home, config, stderr: false })
    const apiPath = join(home, 'api.json')
    try {
      assert.equal((await stat(apiPath)).mode & 0o777, 0o600)
      const info = JSON.parse(await readFile(apiPath, 'utf8'))
      assert.equal(info.url, daemon.info.url)
      assert.equal(info.peerId, daemon.node.peerId)
      const unauth = await fetch(`${info.url}/v1/id`)
      assert.equal(unauth.status, 401)

      const events = await fetch(`${info.url}/v1/events`, { headers: { authorization: `Bearer ${info.token}` } })
      assert.equal(events.headers.get('content-type'), 'text/event-stream; charset=utf-8')
      const reader = (events.body as ReadableStream<Uint8Array>).getReader()
      const first = new TextDecoder().decode((await reader.read()).value)
      assert.match(first, /event: hello/)

      // A peer connecting shows up on the stream.
      const peer = await createNode({
        key: generateDeviceKey(),
        config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, metrics: false },
      })
      try {
        await peer.net.connect(daemon.node.net.addresses()[0] as string)
        let text = ''
        while (!text.includes('event: peer:connect')) text += new TextDecoder().decode((await reader.read()).value)
        assert.match(text, new RegExp(peer.peerId))
      } finally {
        await peer.stop()
      }

      await assert.rejects(startDaemon({ home, config, stderr: false }), { name: 'DaemonRunningError' })
      await reader.cancel()
    } finally {
      await daemon.stop()
    }
    await assert.rejects(stat(apiPath), { code: 'ENOENT' })
    await assert.rejects(fetch(`${daemon.info.url}/health`), 'the API socket is closed')
    const log = await readFile(join(home, 'logs', 'daemon.log'), 'utf8')
    assert.match(log, /daemon stopped/)
    assert.equal(log.includes(daemon.info.token), false, 'the token never appears in logs')
  })
})
