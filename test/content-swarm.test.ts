/**
 * File sharing between real daemon processes on 127.0.0.1: a file added on three nodes is
 * fetched by a fourth from all three; a seeder killed mid-transfer; the downloader killed with
 * SIGKILL and resumed; no provider; a cancelled get leaves nothing behind.
 *
 * Every daemon runs with --upload-limit so transfers last long enough to interrupt.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createTestnet, LATERAL_BIN, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

interface PeerTally {
  peerId: string
  bytes: number
  blocks: number
  state: string
}

interface GetSummary {
  cid: string
  blocks: number
  bytes: number
  fetchedBlocks: number
  storedBlocks: number
  peers: PeerTally[]
  output: string
}

interface TransferView {
  kind: string
  state: string
  cid?: string
  progress?: { fetchedBytes: number; totalBytes?: number }
}

const UPLOAD_LIMIT = 6 * 1024 * 1024
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function countBlocks(home: string): Promise<number> {
  let n = 0
  const root = join(home, 'blocks')
  for (const shard of await readdir(root)) {
    if (shard.startsWith('.')) continue
    n += (await readdir(join(root, shard))).length
  }
  return n
}

describe('file sharing between daemon processes', { timeout: 240_000 }, () => {
  let net: Testnet
  let dir: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lateral-swarm-'))
    net = await createTestnet(4, { bootstrap: 'first', args: ['--upload-limit', String(UPLOAD_LIMIT)] })
    // Everyone connected to everyone, as a LAN would be after discovery.
    for (let i = 1; i < 4; i++)
      for (let j = i + 1; j < 4; j++) await net.cli(i, ['connect', net.daemons[j]?.address as string])
  })

  after(async () => {
    await net?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  /** Write a random file and add it on the given daemons; all must print the same CID. */
  async function seed(name: string, size: number, on: number[]): Promise<{ cid: string; bytes: Buffer }> {
    const bytes = randomBytes(size)
    const path = join(dir, name)
    await writeFile(path, bytes)
    const cids = new Set<string>()
    for (const i of on) {
      const r = await net.cli(i, ['add', path, '--chunker', 'size-262144', '--json'])
      assert.equal(r.code, 0, r.stderr)
      cids.add((JSON.parse(r.stdout) as { cid: string }).cid)
    }
    assert.equal(cids.size, 1)
    return { cid: [...cids][0] as string, bytes }
  }

  async function runningGet(i: number, cid: string): Promise<TransferView | undefined> {
    const { transfers } = await net.api<{ transfers: TransferView[] }>(i, '/v1/transfers')
    return transfers.find((t) => t.kind === 'get' && t.cid === cid && t.state === 'running')
  }

  it('a file added on three nodes is fetched by a fourth from all three, byte for byte', async () => {
    const { cid, bytes } = await seed('three.bin', 12 * 1024 * 1024, [0, 1, 2])
    const out = join(dir, 'three.out')
    const r = await net.cli(3, ['get', cid, '-o', out, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const summary = JSON.parse(r.stdout) as GetSummary
    assert.equal(sha256(await readFile(out)), sha256(bytes))
    assert.equal(summary.fetchedBlocks, summary.blocks)
    const seeders = [0, 1, 2].map((i) => net.daemons[i]?.peerId)
    for (const id of seeders) {
      const tally = summary.peers.find((p) => p.peerId === id)
      assert.ok(tally !== undefined && tally.bytes > 0, `seeder ${id} served part of the file: ${r.stdout}`)
    }
    assert.equal(
      summary.peers.reduce((s, p) => s + p.bytes, 0),
      summary.bytes,
      'per-peer bytes add up to the DAG',
    )
    // The seeders count what they sent to the downloader too.
    const stats = await net.api<{ served: Array<{ peerId: string; bytes: number }> }>(0, '/v1/content/stats')
    assert.ok((stats.served.find((s) => s.peerId === net.daemons[3]?.peerId)?.bytes ?? 0) > 0)
    // The downloader now keeps and announces it.
    const pins = JSON.parse((await net.cli(3, ['pins', '--json'])).stdout) as { pins: Array<{ cid: string }> }
    assert.ok(pins.pins.some((p) => p.cid === cid))
    const providers = JSON.parse((await net.cli(2, ['providers', cid, '--json', '--timeout', '5'])).stdout) as {
      providers: Array<{ peerId: string }>
    }
    for (const i of [0, 1, 3]) assert.ok(providers.providers.some((p) => p.peerId === net.daemons[i]?.peerId))
  })

  it('a folder: ls from another node, get -o writes the tree, a file to stdout; unpin + gc free it', async () => {
    const folder = join(dir, 'photos')
    await mkdir(join(folder, '2026', 'summer'), { recursive: true })
    const files: Record<string, Buffer> = {
      'a.jpg': randomBytes(300_000),
      '2026/b.jpg': randomBytes(1_200_000),
      '2026/summer/c.txt': Buffer.from('sun\n'),
    }
    for (const [name, bytes] of Object.entries(files)) await writeFile(join(folder, name), bytes)
    const added = await net.cli(0, ['add', folder, '--json'])
    assert.equal(added.code, 0, added.stderr)
    const { cid, entries } = JSON.parse(added.stdout) as { cid: string; entries: Array<{ path: string; cid: string }> }
    const listing = await net.cli(3, ['ls', cid, '--json', '--timeout', '20'])
    assert.equal(listing.code, 0, listing.stderr)
    const listed = (
      JSON.parse(listing.stdout) as { entries: Array<{ name: string; cid: string; type: string; size: number }> }
    ).entries
    assert.deepEqual(
      listed.map((e) => [e.name, e.type, e.cid]),
      [
        ['2026', 'directory', entries.find((e) => e.path === 'photos/2026')?.cid],
        ['a.jpg', 'file', entries.find((e) => e.path === 'photos/a.jpg')?.cid],
      ],
    )
    // A file's size is its length; a folder's is its whole DAG (contents plus a little structure).
    assert.equal(listed[1]?.size, 300_000)
    assert.ok((listed[0]?.size ?? 0) >= 1_200_004 && (listed[0]?.size ?? 0) < 1_201_000, String(listed[0]?.size))
    const out = join(dir, 'photos-copy')
    const got = await net.cli(3, ['get', cid, '-o', out])
    assert.equal(got.code, 0, got.stderr)
    for (const [name, bytes] of Object.entries(files))
      assert.equal(sha256(await readFile(join(out, name))), sha256(bytes))
    const one = entries.find((e) => e.path === 'photos/2026/b.jpg')?.cid as string
    const stdout = await runCliBinary(3, ['get', one])
    assert.equal(sha256(stdout), sha256(files['2026/b.jpg'] as Buffer))
    assert.equal((await net.cli(3, ['get', cid])).code, 2, 'a folder cannot go to stdout')
    assert.equal((await net.cli(3, ['unpin', cid])).code, 0)
    const gc = JSON.parse((await net.cli(3, ['gc', '--json'])).stdout) as { removed: number }
    assert.ok(gc.removed >= 5, `gc removed the folder's blocks: ${gc.removed}`)
  })

  /** The raw stdout bytes of a CLI command on daemon i. */
  function runCliBinary(i: number, args: string[]): Promise<Buffer> {
    return new Promise((resolvePromise, reject) => {
      execFile(
        process.execPath,
        [LATERAL_BIN, ...args, '--home', net.daemons[i]?.home as string],
        { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 },
        (err, stdout) => (err === null ? resolvePromise(stdout) : reject(err)),
      )
    })
  }

  it('a seeder killed in the middle: the download completes from the others', async () => {
    const { cid, bytes } = await seed('killed-seeder.bin', 24 * 1024 * 1024, [0, 1, 2])
    const out = join(dir, 'killed-seeder.out')
    const get = net.spawnCli(3, ['get', cid, '-o', out, '--json'])
    await waitFor(async () => ((await runningGet(3, cid))?.progress?.fetchedBytes ?? 0) > 4 * 1024 * 1024, {
      what: 'a quarter of the file',
      intervalMs: 50,
    })
    const killed = net.daemons[1]?.peerId
    await net.kill(1, 'SIGKILL')
    assert.equal(await get.exited(), 0, get.stderr())
    assert.equal(sha256(await readFile(out)), sha256(bytes))
    const summary = JSON.parse(get.lines.join('\n')) as GetSummary
    const tally = summary.peers.find((p) => p.peerId === killed)
    assert.ok(tally !== undefined && tally.bytes > 0, 'the killed seeder had served part')
    assert.notEqual(tally.state, 'active')
    await net.restart(1)
  })

  it('the downloader killed with SIGKILL resumes after a restart without fetching stored blocks again', async () => {
    const { cid, bytes } = await seed('resume.bin', 24 * 1024 * 1024, [0, 2])
    const home = net.daemons[3]?.home as string
    const before = await countBlocks(home)
    const get = net.spawnCli(3, ['get', cid, '-o', join(dir, 'resume-first.out')])
    await waitFor(async () => ((await runningGet(3, cid))?.progress?.fetchedBytes ?? 0) > 6 * 1024 * 1024, {
      what: 'a quarter of the file',
      intervalMs: 50,
    })
    await net.kill(3, 'SIGKILL')
    await get.exited()
    const kept = (await countBlocks(home)) - before
    assert.ok(kept > 0, 'some blocks were stored before the kill')
    await net.restart(3)
    await net.cli(3, ['connect', net.daemons[2]?.address as string])
    const out = join(dir, 'resume.out')
    const r = await net.cli(3, ['get', cid, '-o', out, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const summary = JSON.parse(r.stdout) as GetSummary
    assert.equal(summary.storedBlocks, kept, 'every block stored before the kill was used, none fetched again')
    assert.equal(summary.fetchedBlocks, summary.blocks - kept)
    // Stored and fetched bytes add up to the file's, plus its root node (a few hundred bytes).
    assert.ok(
      summary.bytes >= bytes.length && summary.bytes < bytes.length + 64 * 1024,
      `${summary.bytes} bytes counted for a ${bytes.length}-byte file`,
    )
    assert.equal(sha256(await readFile(out)), sha256(bytes))
    // The first get's output was never created: it was killed before writing.
    await assert.rejects(readFile(join(dir, 'resume-first.out')), { code: 'ENOENT' })
  })

  it('no provider anywhere: get fails with a clear error after --timeout', async () => {
    // A CID nobody has: hash fresh bytes without storing them anywhere.
    const path = join(dir, 'nobody.bin')
    await writeFile(path, randomBytes(1024))
    const hashed = await net.cli(0, ['add', path, '--only-hash', '--json'])
    assert.equal(hashed.code, 0, hashed.stderr)
    const { cid } = JSON.parse(hashed.stdout) as { cid: string }
    const started = Date.now()
    const r = await net.cli(3, ['get', cid, '-o', join(dir, 'nobody.out'), '--timeout', '2'])
    assert.equal(r.code, 12, r.stderr)
    assert.match(r.stderr, /no peer provides/)
    assert.ok(Date.now() - started < 20_000)
    await assert.rejects(readFile(join(dir, 'nobody.out')), { code: 'ENOENT' })
  })

  it('a cancelled get (Ctrl-C) leaves no partial output behind', async () => {
    const { cid } = await seed('cancel.bin', 24 * 1024 * 1024, [0])
    const out = join(dir, 'cancel-out')
    const get = net.spawnCli(3, ['get', cid, '-o', out])
    await waitFor(async () => ((await runningGet(3, cid))?.progress?.fetchedBytes ?? 0) > 1024 * 1024, {
      what: 'the transfer to start',
      intervalMs: 50,
    })
    const code = await get.stop('SIGINT')
    assert.notEqual(code, 0)
    const { transfers } = await net.api<{ transfers: TransferView[] }>(3, '/v1/transfers')
    assert.equal(transfers.find((t) => t.cid === cid)?.state, 'cancelled')
    const leftovers = (await readdir(dir)).filter((n) => n.includes('cancel-out'))
    assert.deepEqual(leftovers, [])
  })
})
