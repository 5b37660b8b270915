/**
 * A relay killed in the middle of a transfer, in the NAT lab: two hosts behind NATs that cannot
 * be dialled directly (a home NAT and a hard NAT) each hold reservations on two relays; a 20 MiB
 * fetch runs over one relay (throttled so it lasts), that relay's daemon is killed, and the
 * fetch completes through the other relay. Needs root (CI runs as root and must run it).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { DoctorReply } from '../src/daemon/doctor-schema.ts'
import { connectionTo, json } from '../src/testing/natlab/checks.ts'
import { createNatLab, LAB_PORT, type NatLab } from '../src/testing/natlab/index.ts'
import { netnsUnavailable } from '../src/testing/netns.ts'
import type { TestDaemon } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

const unavailable = await netnsUnavailable()
if (unavailable !== undefined) console.log(`# NAT lab (relay failover) skipped: ${unavailable}`)

const MiB = 1024 * 1024

/** Bytes of blocks stored under a daemon's home (the blockstore is files on disk). */
async function storedBytes(home: string): Promise<number> {
  let total = 0
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) await walk(path)
      else total += (await stat(path)).size
    }
  }
  await walk(join(home, 'blocks'))
  return total
}

describe('NAT lab: a relay killed mid-transfer', { skip: unavailable ?? false }, () => {
  let lab: NatLab
  const relays = new Map<string, TestDaemon>()
  let owner: TestDaemon
  let fetcher: TestDaemon

  before(async () => {
    lab = await createNatLab([
      { name: 'relay1', kind: 'public' },
      { name: 'relay2', kind: 'public' },
      { name: 'owner', kind: 'hard' },
      { name: 'fetcher', kind: 'home' },
    ])
    const relayArgs = (name: string) => [
      '--relay-server',
      '--relay-data-limit',
      '0',
      '--no-upnp',
      '--announce',
      `/ip4/${lab.host(name).address}/tcp/${LAB_PORT}`,
    ]
    const r1 = await lab.startDaemon('relay1', relayArgs('relay1'))
    const r2 = await lab.startDaemon('relay2', [...relayArgs('relay2'), '--bootstrap', r1.address])
    relays.set(r1.peerId, r1).set(r2.peerId, r2)
    const bootstrap = ['--bootstrap', r1.address, '--bootstrap', r2.address, '--no-upnp']
    owner = await lab.startDaemon('owner', bootstrap)
    // Throttled so that the transfer is still running when the relay goes.
    fetcher = await lab.startDaemon('fetcher', [...bootstrap, '--download-limit', '2M'])
    for (const d of [owner, fetcher]) {
      await waitFor(
        async () => ((await json<DoctorReply>(lab, d, ['doctor'])).relays.length === 2 ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 500, what: 'reservations on both relays' },
      )
    }
  })
  after(async () => {
    await lab?.destroy()
  })

  it('the fetch completes through the other relay', async () => {
    const data = randomBytes(20 * MiB)
    const source = join(lab.dir, 'failover.bin')
    await writeFile(source, data)
    const { cid } = await json<{ cid: string }>(lab, owner, ['add', source])
    await json(lab, fetcher, ['connect', owner.peerId])
    const out = join(lab.dir, 'failover.out')
    const fetched = json(lab, fetcher, ['get', cid, '-o', out, '--timeout', '60'], 180_000)
    await waitFor(async () => ((await storedBytes(fetcher.home)) > 3 * MiB ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'the transfer under way',
    })
    const conn = await connectionTo(lab, fetcher, owner)
    assert.equal(conn?.kind, 'relayed')
    const via = /\/p2p\/([^/]+)\/p2p-circuit/.exec(conn?.addresses[0] ?? '')?.[1] as string
    const used = relays.get(via)
    assert.ok(used !== undefined, `the connection goes through one of the lab's relays: ${conn?.addresses}`)
    const before = await storedBytes(fetcher.home)
    await lab.stopDaemon(used)
    await fetched
    assert.ok(before < 20 * MiB, 'the relay was killed before the transfer ended')
    assert.ok((await readFile(out)).equals(data), 'the fetched file is the one added')
    const after = await connectionTo(lab, fetcher, owner)
    assert.ok(after === undefined || !after.addresses.some((a) => a.includes(via)), 'no longer through the dead relay')
    console.log(
      `# relay failover: ${(before / MiB).toFixed(1)} MiB fetched when the relay was killed; completed through the other`,
    )
  })
})
