/**
 * UPnP in the NAT lab: a host behind a home router that runs miniupnpd maps its listen port on
 * the router by itself; the mapping is in the router's nftables, a public host outside dials the
 * router's address and port straight to the daemon (a direct connection, no relay), and the
 * mapping is gone once the daemon stops. Needs root (CI runs as root and must run it).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { DoctorReply } from '../src/daemon/doctor-schema.ts'
import { json } from '../src/testing/natlab/checks.ts'
import { createNatLab, LAB_PORT, type NatLab, upnpForwards } from '../src/testing/natlab/index.ts'
import { netnsUnavailable } from '../src/testing/netns.ts'
import type { TestDaemon } from '../src/testing/testnet.ts'
import { waitFor } from '../src/testing/wait.ts'

const unavailable = await netnsUnavailable()
if (unavailable !== undefined) console.log(`# NAT lab (UPnP) skipped: ${unavailable}`)

describe('NAT lab: UPnP port mapping', { skip: unavailable ?? false }, () => {
  let lab: NatLab
  let outside: TestDaemon
  let mapped: TestDaemon

  before(async () => {
    lab = await createNatLab([
      { name: 'outside', kind: 'public' },
      { name: 'mapped', kind: 'upnp' },
    ])
    outside = await lab.startDaemon('outside', [
      '--no-upnp',
      '--announce',
      `/ip4/${lab.host('outside').address}/tcp/${LAB_PORT}`,
    ])
    // UPnP is on by default; the daemon listens on its LAN address, which the router can map.
    mapped = await lab.startDaemon('mapped', ['--bootstrap', outside.address])
  })
  after(async () => {
    await lab?.destroy()
  })

  it('the mapping appears on the router, makes the host reachable from outside, and is removed on stop', async () => {
    const router = lab.host('mapped').router as string
    const wan = lab.host('mapped').publicAddress
    const t0 = performance.now()
    await waitFor(async () => ((await upnpForwards(router)).includes(`dport ${LAB_PORT}`) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 250,
      what: `a UPnP forward of port ${LAB_PORT} on the router`,
    })
    const mappedMs = performance.now() - t0
    const report = await waitFor(
      async () => {
        const r = await json<DoctorReply>(lab, mapped, ['doctor'])
        return r.upnp.mappings.includes(`/ip4/${wan}/tcp/${LAB_PORT}`) ? r : undefined
      },
      { timeoutMs: 20_000, intervalMs: 500, what: 'the mapping in lateral doctor' },
    )
    assert.equal(report.upnp.externalAddress, wan)

    // From the internet, straight to the router's address: only the mapping can let this in.
    const conn = await json<{ peerId: string; kind: string; addresses: string[] }>(lab, outside, [
      'connect',
      `/ip4/${wan}/tcp/${LAB_PORT}/p2p/${mapped.peerId}`,
    ])
    assert.equal(conn.peerId, mapped.peerId)
    assert.equal(conn.kind, 'direct')

    await lab.stopDaemon(mapped)
    await waitFor(async () => (!(await upnpForwards(router)).includes(`dport ${LAB_PORT}`) ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 250,
      what: 'the UPnP forward removed after the daemon stopped',
    })
    console.log(`# UPnP: mapping on the router ${Math.round(mappedMs)} ms after start; removed on stop`)
  })
})
