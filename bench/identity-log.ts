/**
 * `node bench/identity-log.ts [--entries 1000] [--runs 3]`
 *
 * Identity log verification speed (src/identity/log/): a log of N entries written by four devices
 * on two replicas that exchange entries every 8 writes (so there are concurrent branches), then
 * taken by fresh peers three ways, each timed from bytes to merged state:
 * - `verifyLog` of the whole log (what a peer does with a log fetched at once);
 * - `add` of every entry in a random order (parents often missing: the pending set);
 * - `add` in order, asking for the state after each entry (the state updated in place).
 * Prints JSON (entries per second, median of the runs); writes bench/results/identity-log.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createDeviceSigner } from '../src/identity/device-signer.ts'
import { generateDeviceKey } from '../src/identity/keystore.ts'
import { createJoinRequest, IdentityLog, newDataKey, verifyLog } from '../src/identity/log/index.ts'
import { median } from './lib/stats.ts'

const here = dirname(fileURLToPath(import.meta.url))

async function build(total: number): Promise<{ genesis: Uint8Array; entries: Uint8Array[] }> {
  const [a, b, c, d] = Array.from({ length: 4 }, () => createDeviceSigner(generateDeviceKey()))
  if (a === undefined || b === undefined || c === undefined || d === undefined) throw new Error('unreachable')
  const left = await IdentityLog.create(a, a, { name: 'a', profile: 'Bench' })
  for (const device of [b, c, d]) {
    const join = await createJoinRequest(device, device, { identity: left.id, name: 'device' })
    await left.append(a, { kind: 'addDevice', join })
  }
  const right = verifyLog(left.id, left.entries())
  const writers: Array<[IdentityLog, typeof a]> = [
    [left, a],
    [right, b],
    [left, c],
    [right, d],
  ]
  const writes = total - left.size
  for (let i = 0; i < writes; i++) {
    const [log, device] = writers[i % writers.length] as [IdentityLog, typeof a]
    if (i % 50 === 49) await log.append(device, { kind: 'rotateDataKey', dataKey: newDataKey() })
    else await log.append(device, { kind: 'setProfile', name: `name ${i}` })
    if (i % 8 === 7) {
      for (const bytes of right.entries()) left.add(bytes)
      for (const bytes of left.entries()) right.add(bytes)
    }
  }
  for (const bytes of right.entries()) left.add(bytes)
  return { genesis: left.entry(left.id) as Uint8Array, entries: left.entries() }
}

function timed(fn: () => void): number {
  const start = performance.now()
  fn()
  return performance.now() - start
}

export async function benchIdentityLog(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { entries: { type: 'string' }, runs: { type: 'string' } } })
  const total = Number(values.entries ?? 1000)
  const runs = Number(values.runs ?? 3)
  const { genesis, entries } = await build(total)
  const id = IdentityLog.fromGenesis(genesis).id
  const shuffled = [...entries].sort(() => Math.random() - 0.5)
  const ms = { verifyLog: [] as number[], randomOrder: [] as number[], incremental: [] as number[] }
  let state = verifyLog(id, entries).state()
  for (let run = 0; run < runs; run++) {
    ms.verifyLog.push(timed(() => verifyLog(id, entries).state()))
    ms.randomOrder.push(
      timed(() => {
        const peer = IdentityLog.fromGenesis(genesis, { maxPending: entries.length })
        for (const bytes of shuffled) peer.add(bytes)
        state = peer.state()
      }),
    )
    ms.incremental.push(
      timed(() => {
        const peer = IdentityLog.fromGenesis(genesis)
        for (const bytes of entries) peer.add(bytes) && peer.state()
      }),
    )
  }
  const perSecond = (list: number[]) => Math.round(entries.length / (median(list) / 1000))
  const result = {
    entries: entries.length,
    devices: state.devices.length,
    dataKeyEpoch: state.dataKey.epoch,
    runs,
    node: process.version,
    medianMs: {
      verifyLog: median(ms.verifyLog),
      randomOrder: median(ms.randomOrder),
      incremental: median(ms.incremental),
    },
    entriesPerSecond: {
      verifyLog: perSecond(ms.verifyLog),
      randomOrder: perSecond(ms.randomOrder),
      incremental: perSecond(ms.incremental),
    },
  }
  mkdirSync(join(here, 'results'), { recursive: true })
  writeFileSync(join(here, 'results', 'identity-log.json'), `${JSON.stringify(result, null, 2)}\n`)
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchIdentityLog(process.argv.slice(2))
