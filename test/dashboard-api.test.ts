/**
 * What the dashboard relies on, over a real socket: the page and its headers, the one-time
 * login (once, expiring, never the token in a URL or a log), one-time download links,
 * uploads from a browser (refusing paths that climb out), traffic figures, topic history,
 * and a token that survives a restart.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { BandwidthHistory } from '../src/daemon/bandwidth.ts'
import { type Daemon, startDaemon } from '../src/daemon/daemon.ts'
import { OneTimeCodes } from '../src/daemon/one-time.ts'
import { createKeystore, generateDeviceKey } from '../src/identity/keystore.ts'
import { reachability } from '../src/net/index.ts'
import { createNode } from '../src/node/node.ts'
import { waitFor } from '../src/testing/wait.ts'

const config = { listen: ['/ip4/127.0.0.1/tcp/0'], api: '127.0.0.1:0', mdns: false }

describe('dashboard support in the daemon', () => {
  let home: string
  let daemon: Daemon
  let url: string
  let token: string
  // biome-ignore lint/suspicious/noExplicitAny: replies are checked field by field below
  type Json = any
  const json = async (res: Response | Promise<Response>): Promise<Json> => (await res).json()
  const call = (path: string, init: RequestInit = {}, auth = true) =>
    fetch(`${url}${path}`, {
      ...init,
      headers: {
        ...(auth ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body === undefined || init.body instanceof Uint8Array ? {} : { 'content-type': 'application/json' }),
        ...(init.headers as Record<string, string> | undefined),
      },
    })

  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'lateral-dash-'))
    await createKeystore(home, { kdf: { logN: 10 } })
    daemon = await startDaemon({ home, config, stderr: false, logLevel: 'debug' })
    url = daemon.info.url
    token = daemon.info.token
  })
  after(async () => {
    await daemon?.stop()
    await rm(home, { recursive: true, force: true })
  })

  it('serves the built page without a token, with a strict content policy; the API still needs the token', async () => {
    const page = await fetch(`${url}/`, { headers: { 'accept-encoding': 'gzip' } })
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type') ?? '', /text\/html/)
    const csp = page.headers.get('content-security-policy') ?? ''
    assert.match(csp, /default-src 'self'/)
    assert.match(csp, /frame-ancestors 'none'/)
    const html = await page.text()
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1]
    assert.ok(script, 'the page loads a bundled script')
    const js = await fetch(`${url}${script}`)
    assert.equal(js.status, 200)
    assert.match(js.headers.get('cache-control') ?? '', /immutable/)
    assert.equal((await fetch(`${url}/assets/nope.js`)).status, 404)
    assert.equal((await fetch(`${url}/assets/..%2f..%2fapi.json`)).status, 404)
    assert.equal((await call('/v1/status', {}, false)).status, 401)
  })

  it('a login code works once and never carries the token; a wrong code is refused', async () => {
    const login = await json(call('/v1/ui/login', { method: 'POST', body: '{}' }))
    assert.match(login.path, /^\/#login=[A-Za-z0-9_-]{32}$/)
    assert.ok(!login.path.includes(token))
    const code = login.path.slice('/#login='.length)
    const trade = (c: string) => call('/v1/ui/session', { method: 'POST', body: JSON.stringify({ code: c }) }, false)
    const first = await trade(code)
    assert.equal(first.status, 200)
    assert.equal((await json(first)).token, token)
    assert.equal(first.headers.get('cache-control'), 'no-store')
    const again = await trade(code)
    assert.equal(again.status, 401)
    assert.match((await json(again)).error.message, /already used or has expired/)
    assert.equal((await trade('guess')).status, 401)
    // Logging in needs the token: nobody without it can mint a code.
    assert.equal((await call('/v1/ui/login', { method: 'POST', body: '{}' }, false)).status, 401)
    // `lateral ui`'s link, from the daemon object, works the same way.
    const link = new URL(daemon.loginUrl())
    assert.equal((await trade(link.hash.slice('#login='.length))).status, 200)
  })

  it('codes expire and are bounded in number', () => {
    const codes = new OneTimeCodes<string>({ ttlMs: 1000, max: 2 })
    const a = codes.issue('a', 0)
    assert.equal(codes.redeem(a.code, 999), 'a')
    const b = codes.issue('b', 0)
    assert.equal(codes.redeem(b.code, 1000), undefined, 'expired at its deadline')
    const c = codes.issue('c', 0)
    codes.issue('d', 0)
    codes.issue('e', 0)
    assert.equal(codes.redeem(c.code, 1), undefined, 'the oldest went when the limit was passed')
  })

  it('a browser upload is added with the CID of the same folder added by path; bad paths are refused', async () => {
    const folder = join(home, '..', `album-${randomBytes(3).toString('hex')}`)
    const files: Record<string, Uint8Array> = {
      'a.txt': new TextEncoder().encode('first file\n'),
      'sub/b.bin': randomBytes(1_500_000),
      'sub/deeper/c.txt': new TextEncoder().encode(''),
    }
    const { mkdir } = await import('node:fs/promises')
    for (const [path, bytes] of Object.entries(files)) {
      await mkdir(join(folder, path, '..'), { recursive: true })
      await writeFile(join(folder, path), bytes)
    }
    const byPath = await json(
      call('/v1/content', { method: 'POST', body: JSON.stringify({ path: folder, onlyHash: true, wait: true }) }),
    )
    const name = folder.split('/').pop() as string

    const { id } = await json(call('/v1/uploads', { method: 'POST', body: '{}' }))
    const put = (path: string, body: Uint8Array) =>
      call(`/v1/uploads/${id}/files?path=${encodeURIComponent(path)}`, {
        method: 'PUT',
        body,
        headers: { 'content-type': 'application/octet-stream' },
      })
    for (const bad of ['../escape.txt', `${name}/../../x`, '/etc/passwd', `${name}//x`, `${name}/./x`, '']) {
      const res = await put(bad, new Uint8Array([1]))
      assert.equal(res.status, 400, bad)
      assert.equal((await json(res)).error.name, 'InvalidInputError')
    }
    for (const [path, bytes] of Object.entries(files)) {
      const res = await put(`${name}/${path}`, bytes)
      assert.equal(res.status, 200, await res.clone().text())
      assert.equal((await json(res)).size, bytes.length)
    }
    const twice = await put(`${name}/a.txt`, new Uint8Array([1]))
    assert.equal(twice.status, 409, 'a path is written once')
    const other = await put('other-top/x.txt', new Uint8Array([1]))
    assert.equal(other.status, 400, 'one file or folder per upload')

    const added = await json(call(`/v1/uploads/${id}/add`, { method: 'POST', body: JSON.stringify({ wait: true }) }))
    assert.equal(added.state, 'done', JSON.stringify(added))
    assert.equal(added.result.cid, byPath.result.cid)
    assert.equal(added.path, name)
    assert.deepEqual(await readdir(join(home, 'uploads')), [], 'the staged copy is removed')
    assert.equal((await call(`/v1/uploads/${id}/add`, { method: 'POST', body: '{}' })).status, 404)
    await rm(folder, { recursive: true, force: true })
  })

  it('a download link serves a stored file once, with its name, and only files that are here', async () => {
    const bytes = randomBytes(300_000)
    const file = join(home, '..', `dl-${randomBytes(3).toString('hex')}.bin`)
    await writeFile(file, bytes)
    const added = await json(call('/v1/content', { method: 'POST', body: JSON.stringify({ path: file, wait: true }) }))
    const cid = added.result.cid as string
    const link = await json(
      call(`/v1/content/${cid}/link`, { method: 'POST', body: JSON.stringify({ filename: 'report 1.bin' }) }),
    )
    assert.match(link.path, /^\/dl\/[A-Za-z0-9_-]{32}$/)
    const res = await fetch(`${url}${link.path}`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-disposition'), "attachment; filename*=UTF-8''report%201.bin")
    const got = new Uint8Array(await res.arrayBuffer())
    assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(bytes).digest('hex'))
    assert.equal((await fetch(`${url}${link.path}`)).status, 401, 'a link works once')
    const missing = await call('/v1/content/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy/link', {
      method: 'POST',
      body: JSON.stringify({ filename: 'x' }),
    })
    assert.equal(missing.status, 404)
    await rm(file, { force: true })
  })

  it('counts traffic per peer and over time, and keeps the topic conversation for a page opened later', async () => {
    const peer = await createNode({
      key: generateDeviceKey(),
      config: { listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, metrics: false },
    })
    try {
      const id = await json(call('/v1/id'))
      const address = (id.addresses as string[]).find((a) => a.includes('/tcp/') && !a.includes('/ws')) as string
      await peer.net.connect(address)
      const peers = await waitFor(
        async () => {
          const list = (await json(call('/v1/peers'))).peers as Array<{
            peerId: string
            bytesIn?: number
            bytesOut?: number
          }>
          const p = list.find((x) => x.peerId === peer.peerId)
          return p !== undefined && (p.bytesIn ?? 0) > 0 && (p.bytesOut ?? 0) > 0 ? p : undefined
        },
        { timeoutMs: 10_000, what: 'bytes counted for the peer' },
      )
      const status = await json(call('/v1/status'))
      assert.equal(status.reachability, 'private')
      assert.ok(status.traffic.bytesIn >= (peers.bytesIn ?? 0))
      assert.ok(status.traffic.bytesOut >= (peers.bytesOut ?? 0))
      const bw = await waitFor(
        async () => {
          const b = await json(call('/v1/bandwidth'))
          return b.samples.length >= 2 ? b : undefined
        },
        { timeoutMs: 10_000, what: 'two bandwidth samples' },
      )
      assert.equal(bw.intervalMs, 1000)

      assert.equal((await call('/v1/topics/room/join', { method: 'POST', body: '{}' })).status, 200)
      const general = peer.messaging.topic('room')
      await waitFor(
        async () => ((await json(call('/v1/topics/room/peers'))).peers.includes(peer.peerId) ? true : undefined),
        { timeoutMs: 15_000, what: 'the peer in the topic' },
      )
      await waitFor(async () => (peer.messaging.topicPeers('room').includes(daemon.node.peerId) ? true : undefined), {
        timeoutMs: 15_000,
        what: 'the daemon in the peer view of the topic',
      })
      await general.publish('from the peer')
      const sent = await json(
        call('/v1/topics/room/publish', { method: 'POST', body: JSON.stringify({ text: 'from the page' }) }),
      )
      assert.equal(sent.type, 'text/plain; charset=utf-8')
      const log = await waitFor(
        async () => {
          const m = (await json(call('/v1/topics/room/messages'))).messages as Array<{
            text: string
            from: string
          }>
          return m.length >= 2 ? m : undefined
        },
        { timeoutMs: 10_000, what: 'two messages in the topic log' },
      )
      assert.deepEqual(
        log.map((m) => [m.text, m.from]).sort(),
        [
          ['from the page', daemon.node.peerId],
          ['from the peer', peer.peerId],
        ].sort(),
      )
      await general.leave()
    } finally {
      await peer.stop()
    }
  })

  it('keeps the API token across restarts (0600), and no token or code ever reaches the log', async () => {
    const tokenFile = join(home, 'api-token')
    assert.equal((await stat(tokenFile)).mode & 0o777, 0o600)
    assert.equal((await readFile(tokenFile, 'utf8')).trim(), token)
    const used = daemon.loginUrl()
    await daemon.stop()
    daemon = await startDaemon({ home, config, stderr: false, logLevel: 'debug' })
    url = daemon.info.url
    assert.equal(daemon.info.token, token)
    assert.equal((await call('/v1/status')).status, 200)
    const log = await readFile(join(home, 'logs', 'daemon.log'), 'utf8')
    assert.ok(log.length > 0)
    assert.ok(!log.includes(token), 'the token is not in the log')
    assert.ok(!log.includes(used.split('#login=')[1] as string), 'login codes are not in the log')
  })

  it('judges reachability from the addresses', () => {
    assert.equal(reachability(['/ip4/127.0.0.1/tcp/1', '/ip4/192.168.1.4/tcp/1', '/ip6/::1/tcp/1']), 'private')
    assert.equal(reachability(['/ip4/10.0.0.2/tcp/1', '/ip4/203.0.113.9/tcp/4001']), 'public')
    assert.equal(reachability(['/ip6/fd00::1/tcp/1', '/ip6/2001:db8::1/tcp/1']), 'public')
    assert.equal(reachability(['/ip4/100.64.0.1/tcp/1', '/ip4/172.20.0.1/tcp/1']), 'private')
    assert.equal(reachability(['/ip4/10.0.0.2/tcp/1', '/ip4/1.2.3.4/tcp/1/p2p/X/p2p-circuit']), 'relayed')
  })

  it('keeps bandwidth as per-second rates over a bounded window', () => {
    let totals = { bytesIn: 0, bytesOut: 0 }
    const h = new BandwidthHistory(() => totals, { size: 3 })
    h.sample(0)
    for (let t = 1; t <= 5; t++) {
      totals = { bytesIn: totals.bytesIn + 2048 * t, bytesOut: totals.bytesOut + 1000 }
      h.sample(t * 2000)
    }
    assert.deepEqual(
      h.samples().map((s) => [s.time, s.inPerSec, s.outPerSec]),
      [
        [6000, 3072, 500],
        [8000, 4096, 500],
        [10000, 5120, 500],
      ],
    )
  })
})
