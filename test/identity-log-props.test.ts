/**
 * Properties of the identity log:
 * - random histories, written by devices on their own replicas that sync now and then (so entries
 *   are concurrent, removed devices write before they learn of their removal, adds race removals),
 *   delivered to fresh peers in random orders, give one state, one entry order and one set of
 *   void entries;
 * - random, mutated and hostile-but-signed entry bytes raise only the documented errors and leave
 *   the log usable.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { ForkError, IdentityLogFullError, IdentityRuleError, InvalidInputError } from '../src/core/errors.ts'
import type { DeviceSigner } from '../src/identity/device-signer.ts'
import { ENTRY_TYPES, type EntryKind } from '../src/identity/log/entries.ts'
import { signEntry } from '../src/identity/log/entry-codec.ts'
import { createJoinRequest, IdentityLog, verifyLog } from '../src/identity/log/index.ts'
import { newDevice, pull, replica } from './helpers/identity-devices.ts'
import { anyCborValue, mutated } from './helpers/mutations.ts'

const POOL = Array.from({ length: 5 }, () => newDevice())
const DOCUMENTED = [InvalidInputError, IdentityRuleError, ForkError, IdentityLogFullError]

interface Op {
  kind: 'profile' | 'add' | 'remove' | 'rotate' | 'sync'
  who: number
  arg: number
}

const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom('profile', 'add', 'remove', 'rotate', 'sync', 'sync'),
  who: fc.nat(),
  arg: fc.nat(),
})

/** Play `ops`: each device writes on its own replica; `sync` exchanges two replicas' entries. */
async function history(ops: Op[]): Promise<{ genesis: Uint8Array; entries: Uint8Array[] }> {
  const first = POOL[0] as DeviceSigner
  const start = await IdentityLog.create(first, first, { name: 'first', profile: 'P' })
  const replicas = new Map<DeviceSigner, IdentityLog>([[first, start]])
  let n = 0
  for (const { kind, who, arg } of ops) {
    const holders = [...replicas.keys()]
    const device = holders[who % holders.length] as DeviceSigner
    const log = replicas.get(device) as IdentityLog
    try {
      if (kind === 'profile') await log.append(device, { kind: 'setProfile', name: `name ${n++}` })
      if (kind === 'rotate') await log.append(device, { kind: 'rotateDataKey', dataKey: new Uint8Array(32).fill(n++) })
      if (kind === 'remove') {
        const devices = log.state().devices
        const target = devices[arg % devices.length]?.peerId as string
        await log.append(device, { kind: 'removeDevice', device: target, reason: `r${n++}` })
      }
      if (kind === 'add') {
        const joining = POOL[arg % POOL.length] as DeviceSigner
        const join = await createJoinRequest(joining, joining, { identity: log.id, name: `d${n++}` })
        await log.append(device, { kind: 'addDevice', join })
        if (!replicas.has(joining)) replicas.set(joining, replica(log))
      }
      if (kind === 'sync') {
        const other = replicas.get(holders[arg % holders.length] as DeviceSigner) as IdentityLog
        pull(log, other)
        pull(other, log)
      }
    } catch (err) {
      // A device may ask for what its replica's state refuses (remove the last device, add one
      // twice, write after its removal): refused before signing, nothing else may fail.
      if (!(err instanceof IdentityRuleError) || !/refused to write|is not a device/.test(err.message)) throw err
    }
  }
  const all = new Map<string, Uint8Array>()
  for (const log of replicas.values()) for (const bytes of log.entries()) all.set(log.add(bytes).cid, bytes)
  return { genesis: start.entry(start.id) as Uint8Array, entries: [...all.values()] }
}

/** What a peer makes of the entries: state, merge order and the void ones. */
function outcome(log: IdentityLog) {
  const order = log.entries().map((bytes) => log.add(bytes).cid)
  return { state: log.state(), order, voided: order.map((cid) => log.voidReason(cid) ?? null) }
}

describe('identity log properties', () => {
  it('random histories delivered in random orders give one state everywhere', async () => {
    let concurrent = 0
    let voided = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 4, maxLength: 24 }),
        fc.array(fc.infiniteStream(fc.nat()), { minLength: 2, maxLength: 2 }),
        async (ops, shuffles) => {
          const { genesis, entries } = await history(ops)
          const id = IdentityLog.fromGenesis(genesis).id
          const expected = outcome(verifyLog(id, [genesis, ...entries]))
          if (expected.state.heads.length > 1 || expected.voided.some((v) => v !== null)) concurrent++
          voided += expected.voided.filter((v) => v !== null).length
          for (const [i, stream] of shuffles.entries()) {
            const order = shuffle(entries, stream)
            const peer = IdentityLog.fromGenesis(genesis, { maxPending: entries.length })
            // The second peer looks at its state after every entry: the log updates it in place
            // where it can, and that must come to what a whole recomputation gives.
            for (const bytes of order) peer.add(bytes) && i === 1 && peer.state()
            assert.deepEqual(peer.missing(), [])
            assert.deepEqual(outcome(peer), expected)
          }
        },
      ),
      // Shrinking replays signatures: bound it, so a failure is reported in seconds, not minutes.
      { numRuns: 40, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: true },
    )
    // The generator must produce the cases the merge rules are about, or the property says little.
    assert.ok(concurrent >= 5, `only ${concurrent} histories had concurrent entries`)
    assert.ok(voided >= 3, `only ${voided} void entries in all histories`)
  })

  describe('hostile entries', () => {
    let log: IdentityLog
    let entries: Uint8Array[]
    let member: DeviceSigner
    before(async () => {
      const { genesis, entries: more } = await history(
        ['add', 'profile', 'rotate', 'add', 'sync', 'remove', 'profile'].map((kind, i) => ({
          kind: kind as Op['kind'],
          who: 0,
          arg: i,
        })),
      )
      log = verifyLog(IdentityLog.fromGenesis(genesis).id, [genesis, ...more])
      entries = log.entries()
      member = POOL[0] as DeviceSigner
    })

    const onlyDocumented = (fn: () => unknown) => {
      try {
        return fn()
      } catch (err) {
        assert.ok(
          DOCUMENTED.some((E) => err instanceof E),
          `undocumented ${(err as Error)?.name}: ${(err as Error)?.message}`,
        )
      }
    }

    it('mutated and random bytes: only documented errors, and never taken', () => {
      const size = log.size
      fc.assert(
        fc.property(fc.oneof(mutated(fc.constantFrom(...entries)), fc.uint8Array({ maxLength: 600 })), (bytes) => {
          const result = onlyDocumented(() => log.add(bytes)) as { status: string } | undefined
          if (result !== undefined) assert.equal(result.status, 'duplicate')
        }),
        { numRuns: 1500 },
      )
      assert.equal(log.size, size)
    })

    it('signed entries with random payloads or fields: only documented errors; the log stays usable', async () => {
      const kinds = Object.keys(ENTRY_TYPES) as EntryKind[]
      const common = fc.record({
        identity: fc.oneof(fc.constant(log.id), fc.string({ maxLength: 60 })),
        prev: fc.oneof(
          fc.constant(log.heads().map((c) => CID.parse(c))),
          fc.subarray(entries.map((b) => CID.parse(log.add(b).cid))),
          anyCborValue(),
        ),
        device: fc.oneof(fc.constant(member.peerId), fc.constant(POOL[1]?.peerId), anyCborValue()),
        seq: fc.oneof(fc.integer({ min: -1, max: 12 }), anyCborValue()),
        time: fc.oneof(fc.nat(), anyCborValue()),
        name: fc.oneof(fc.string({ maxLength: 80 }), anyCborValue()),
        target: fc.oneof(fc.constantFrom(...POOL.map((d) => d.peerId)), anyCborValue()),
        lost: fc.oneof(fc.boolean(), anyCborValue()),
        reason: fc.string({ maxLength: 10 }),
        epoch: fc.oneof(fc.nat(5), anyCborValue()),
        sealed: fc.oneof(fc.constant([]), anyCborValue()),
        join: fc.oneof(fc.uint8Array({ maxLength: 40 }), anyCborValue()),
      })
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...kinds),
          fc.oneof(common, anyCborValue()),
          fc.constantFrom(...POOL),
          async (kind, payload, signer) => {
            const bytes = await signEntry(signer, kind, payload as never)
            onlyDocumented(() => log.add(bytes))
            log.state()
          },
        ),
        { numRuns: 400 },
      )
    })
  })
})

/** `items` in the order given by `stream` (a Fisher-Yates shuffle driven by fast-check). */
function shuffle<T>(items: T[], stream: fc.Stream<number>): T[] {
  const out = [...items]
  const it = stream[Symbol.iterator]()
  for (let i = out.length - 1; i > 0; i--) {
    const j = (it.next().value as number) % (i + 1)
    ;[out[i], out[j]] = [out[j] as T, out[i] as T]
  }
  return out
}
