/**
 * Delegated storage across real daemon processes, through the CLI (issue 12): Ada's node (0) has
 * two keepers, Bob's box (1) and Carol's box (2), to which she gives store/put grants.
 *
 * - a copy within the quota is kept, and its bytes come back from the keeper alone once Ada
 *   deleted her own;
 * - an honest keeper answers a storage challenge; one whose blocks were deleted straight from its
 *   blocks folder fails it, with the reason;
 * - a copy beyond the quota is refused with a clear error, and nothing is fetched;
 * - after a revocation the keeper drops the copy at once; after an expiry, once the grace is over.
 *
 * Reports the challenge round-trip time (median of several checks) on stderr.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { DelegationView } from '../src/delegation/views.ts'
import type { CheckReply, ListReply, PutReply } from '../src/storage/api/schemas.ts'
import { createTestnet, type Testnet } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

const GRACE_MS = 3_000
const parse = <T>(stdout: string) => JSON.parse(stdout) as T

/** Every block file under a home's blocks folder. */
async function blockFiles(home: string): Promise<string[]> {
  const root = join(home, 'blocks')
  const out: string[] = []
  for (const shard of await readdir(root).catch(() => [] as string[])) {
    if (shard.startsWith('.')) continue
    for (const f of await readdir(join(root, shard)).catch(() => [] as string[])) out.push(join(root, shard, f))
  }
  return out
}

describe('delegated storage across daemons', { timeout: 240_000 }, () => {
  let net: Testnet
  let dir: string
  let bob: string
  let carol: string
  const grants: Record<string, string> = {}

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lateral-storage-'))
    net = await createTestnet(3, {
      bootstrap: 'first',
      config: {
        delegation: { sweepIntervalMs: 500, clockSkewS: 1 },
        storage: { expiryGraceMs: GRACE_MS, sweepIntervalMs: 500, checkMeanMs: 0 },
      },
    })
    bob = net.daemons[1]?.peerId as string
    carol = net.daemons[2]?.peerId as string
  })
  after(async () => {
    await net?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  async function cli(i: number, args: string[]) {
    const r = await net.cli(i, [...args, '--json'], { timeoutMs: 120_000 })
    assert.equal(r.code, 0, `lateral ${args.join(' ')}: ${r.stderr}`)
    return r.stdout
  }

  async function addFile(name: string, size: number): Promise<{ cid: string; bytes: Buffer }> {
    const bytes = randomBytes(size)
    const path = join(dir, name)
    await writeFile(path, bytes)
    return { cid: parse<{ cid: string }>(await cli(0, ['add', path])).cid, bytes }
  }

  async function grant(to: number, quota: string, until: string): Promise<string> {
    const [g] = parse<DelegationView[]>(
      await cli(0, [
        'delegate',
        'grant',
        net.daemons[to]?.peerId as string,
        '--can',
        'store/put',
        '--quota',
        quota,
        '--until',
        until,
      ]),
    )
    const cid = g?.cid as string
    await waitFor(
      async () =>
        (await net.api<{ delegations: DelegationView[] }>(to, '/v1/delegations?direction=received')).delegations.some(
          (d) => d.cid === cid && d.state === 'active',
        ),
      { what: `the grant at daemon ${to}`, timeoutMs: 30_000 },
    )
    return cid
  }

  const keptOn = async (i: number) => (await net.api<ListReply>(i, '/v1/storage')).kept

  it('keeps a copy within the quota; the bytes come back from the keeper alone after the owner deleted its own', async () => {
    grants.bob = await grant(1, '10MiB', '30d')
    const file = await addFile('a.bin', 1_500_000)
    const put = parse<PutReply>(await cli(0, ['store', 'put', file.cid, '--on', bob]))
    assert.deepEqual(
      put.keepers.map((k) => [k.peer, k.status]),
      [[bob, 'kept']],
    )
    assert.ok((put.keepers[0]?.size ?? 0) > 1_500_000)

    const placed = parse<ListReply>(await cli(0, ['store', 'list'])).placed
    assert.deepEqual(
      placed.map((p) => [p.cid, p.peer]),
      [[file.cid, bob]],
    )
    assert.deepEqual(
      (await keptOn(1)).map((c) => c.cid),
      [file.cid],
    )
    const human = await net.cli(1, ['store', 'list'])
    assert.match(human.stdout, /Kept here for others:/)
    // Both sides' delegation views say how much of the grant is in use.
    const size = put.keepers[0]?.size
    const given = parse<Array<{ cid: string; used?: number }>>(await cli(0, ['delegate', 'list', '--given']))
    assert.equal(given.find((d) => d.cid === grants.bob)?.used, size)
    const held = parse<Array<{ cid: string; used?: number }>>(await cli(1, ['delegate', 'list', '--received']))
    assert.equal(held.find((d) => d.cid === grants.bob)?.used, size)

    // Ada deletes her own copy; only Bob has it now.
    await cli(0, ['unpin', file.cid])
    await cli(0, ['gc'])
    assert.equal((await blockFiles(net.daemons[0]?.home as string)).length, 0)
    const out = join(dir, 'a.back')
    const got = parse<{ peers: Array<{ peerId: string; bytes: number }> }>(
      await cli(0, ['get', file.cid, '-o', out, '--timeout', '20000']),
    )
    assert.deepEqual(await readFile(out), file.bytes)
    assert.deepEqual(
      got.peers.filter((p) => p.bytes > 0).map((p) => p.peerId),
      [bob],
      'every byte came from the keeper',
    )
    grants.fileA = file.cid
  })

  it('an honest keeper answers a challenge; one whose blocks were deleted behind its back fails it', async () => {
    const cid = grants.fileA as string
    grants.carol = await grant(2, '10MiB', '30d')
    const put = parse<PutReply>(await cli(0, ['store', 'put', cid, '--on', carol]))
    assert.equal(put.keepers[0]?.status, 'kept')

    const rtts: number[] = []
    for (let i = 0; i < 7; i++) {
      const [check] = parse<CheckReply>(await cli(0, ['store', 'check', cid, '--on', bob])).checks
      assert.equal(check?.status, 'proven', check?.reason)
      rtts.push(check?.rttMs as number)
    }
    rtts.sort((a, b) => a - b)
    process.stderr.write(
      `storage challenge round trip between daemons: median ${rtts[3]} ms (min ${rtts[0]}, max ${rtts[6]})\n`,
    )
    const listed = parse<ListReply>(await cli(0, ['store', 'list', '--on', bob])).placed
    assert.ok((listed[0]?.lastProvenAt ?? 0) > Date.now() - 60_000)

    // Carol's node loses its blocks without Lateral knowing: straight out of the blocks folder.
    const files = await blockFiles(net.daemons[2]?.home as string)
    assert.ok(files.length > 0)
    for (const f of files) await unlink(f)
    const failed = await net.cli(0, ['store', 'check', cid, '--on', carol, '--json'])
    assert.equal(failed.code, 23, failed.stderr)
    const [check] = parse<CheckReply>(failed.stdout).checks
    assert.equal(check?.status, 'failed')
    assert.match(check?.reason ?? '', /^missing: block \S+ of \S+ is not stored here/)
    assert.match(failed.stderr, /storage check failed/)
    const human = await net.cli(0, ['store', 'list', '--on', carol])
    assert.match(human.stdout, /failed \(range, [\d.]+ ms\): missing/)
  })

  it('refuses a copy beyond the quota with a clear error, and fetches nothing', async () => {
    // Carol keeps about 1.5 MB of her 10 MiB for Ada; 9.5 MB more do not fit.
    const big = await addFile('big.bin', 9_500_000)
    const before = (await blockFiles(net.daemons[2]?.home as string)).length
    const r = await net.cli(0, ['store', 'put', big.cid, '--on', carol])
    assert.equal(r.code, 21, r.stderr)
    assert.match(r.stderr, /refused: over quota: the grant from identity \S+ allows 10485760 bytes/)
    assert.equal((await blockFiles(net.daemons[2]?.home as string)).length, before, 'nothing was fetched')
    assert.deepEqual(
      (await keptOn(2)).map((c) => c.cid),
      [grants.fileA],
    )
  })

  it('drops the copy at once when the grant is revoked; its blocks are freed', async () => {
    await cli(0, ['delegate', 'revoke', grants.bob as string])
    await waitFor(async () => (await keptOn(1)).length === 0, { what: 'the drop at the keeper', timeoutMs: 60_000 })
    const { pins } = parse<{ pins: Array<{ cid: string }> }>(await cli(1, ['pins']))
    assert.ok(!pins.some((p) => p.cid === grants.fileA))
    await waitFor(async () => (await blockFiles(net.daemons[1]?.home as string)).length === 0, {
      what: 'blocks collected at the keeper',
    })
  })

  it('drops the copy once the grace after its expiry is over, not before', async () => {
    await cli(0, ['delegate', 'revoke', grants.carol as string])
    await waitFor(async () => (await keptOn(2)).length === 0, { what: 'carol drops on revocation', timeoutMs: 60_000 })
    const expiring = await grant(2, '10MiB', '8s')
    const shown = parse<DelegationView>(await cli(0, ['delegate', 'show', expiring]))
    const small = await addFile('small.bin', 200_000)
    const put = parse<PutReply>(await cli(0, ['store', 'put', small.cid, '--on', carol]))
    assert.equal(put.keepers[0]?.status, 'kept')
    // Expired (with the 1 s clock skew), then still kept during the grace.
    await waitFor(async () => (await net.api<ListReply>(2, '/v1/storage')).keptFor.find((u) => u.state === 'lapsed'), {
      what: 'the grant lapsed at the keeper',
      timeoutMs: 30_000,
    })
    assert.deepEqual(
      (await keptOn(2)).map((c) => c.cid),
      [small.cid],
      'kept during the grace',
    )
    await waitFor(async () => (await keptOn(2)).length === 0, { what: 'the drop after the grace', timeoutMs: 30_000 })
    assert.ok(Date.now() >= shown.expiresAt + GRACE_MS, 'not before the grace was over')
  })

  it('takes a contact name: the devices of that person that hold a grant keep it, and lists show the name', async () => {
    const carolId = (await net.api<{ id: string }>(2, '/v1/identity')).id
    await cli(0, ['contact', 'add', 'carol', carolId])
    const [g] = parse<DelegationView[]>(
      await cli(0, ['delegate', 'grant', 'carol', '--can', 'store/put', '--quota', '1MiB', '--until', '30d']),
    )
    await waitFor(
      async () =>
        (await net.api<{ delegations: DelegationView[] }>(2, '/v1/delegations?direction=received')).delegations.some(
          (d) => d.cid === g?.cid && d.state === 'active',
        ),
      { what: 'the grant at carol', timeoutMs: 30_000 },
    )
    const file = await addFile('for-carol.bin', 100_000)
    const put = parse<PutReply>(await cli(0, ['store', 'put', file.cid, '--on', 'carol']))
    assert.deepEqual(
      put.keepers.map((k) => [k.peer, k.status]),
      [[carol, 'kept']],
    )
    // Earlier copies Carol dropped stay listed until a check or a drop finds them gone.
    const placed = parse<ListReply>(await cli(0, ['store', 'list', '--on', 'carol'])).placed
    assert.deepEqual(
      placed.filter((p) => p.cid === file.cid).map((p) => [p.peer, p.contact]),
      [[carol, 'carol']],
    )
    const human = await net.cli(0, ['store', 'list', '--on', 'carol'])
    assert.match(human.stdout, /carol \(12D3Ko/)
    const [check] = parse<CheckReply>(await cli(0, ['store', 'check', file.cid, '--on', 'carol'])).checks
    assert.equal(check?.status, 'proven', check?.reason)
  })
})
