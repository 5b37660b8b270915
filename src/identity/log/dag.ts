/**
 * The entries a log holds, as a DAG, and the checks that depend only on an entry and its causal
 * past (so every peer decides them alike): the identity, the parents, the writer's `seq`, forks,
 * and that the writer was added in the entry's past. Entries whose parents are
 * not here yet wait in a bounded pending set and are checked when the last parent arrives.
 *
 * Each device's entries form a chain (`seq` is 1 + the highest of the device's entries in the
 * entry's past, and two entries of one device with one `seq` are a fork, refused). So "x is in
 * the past of e" is one lookup in e's version vector: `vv(e)[device(x)] >= seq(x)`.
 */
import { ForkError, IdentityLogFullError, IdentityRuleError } from '../../core/errors.ts'
import type { IdentityEntry } from './entry-codec.ts'

export interface HeldEntry {
  entry: IdentityEntry
  /** Per device, the highest `seq` among this entry and its ancestors. */
  vv: Map<string, number>
}

export interface EntryDagInit {
  maxEntries: number
  maxPending: number
}

export interface OfferResult {
  status: 'added' | 'duplicate' | 'pending'
  /** Parents not held yet (pending only). */
  missing?: string[]
  /** Entries that were held added to the DAG (this one first, then released pending ones). */
  added: HeldEntry[]
  /** Pending entries refused once their parents arrived. */
  dropped: Array<{ cid: string; error: Error }>
}

interface Pending {
  entry: IdentityEntry
  missing: Set<string>
}

export class EntryDag {
  readonly genesis: HeldEntry
  readonly identity: string
  readonly #init: EntryDagInit
  readonly #held = new Map<string, HeldEntry>()
  readonly #heads = new Set<string>()
  /** `device seq` to CID, for held and pending entries: forks are found before parents arrive. */
  readonly #seats = new Map<string, string>()
  readonly #maxSeq = new Map<string, number>()
  readonly #addsOf = new Map<string, HeldEntry[]>()
  readonly #pending = new Map<string, Pending>()
  /** Missing parent CID to the pending entries that wait for it. */
  readonly #waiting = new Map<string, Set<string>>()

  constructor(genesis: IdentityEntry, init: EntryDagInit) {
    if (genesis.kind !== 'genesis') throw new IdentityRuleError('a log starts with a genesis entry')
    this.#init = init
    this.identity = genesis.cid
    this.genesis = { entry: genesis, vv: new Map([[genesis.device, 0]]) }
    this.#commit(this.genesis)
  }

  get size(): number {
    return this.#held.size
  }

  get pendingCount(): number {
    return this.#pending.size
  }

  get(cid: string): HeldEntry | undefined {
    return this.#held.get(cid)
  }

  has(cid: string): boolean {
    return this.#held.has(cid)
  }

  values(): IterableIterator<HeldEntry> {
    return this.#held.values()
  }

  /** CIDs of the entries nothing held names as a parent, sorted. */
  heads(): string[] {
    return [...this.#heads].sort()
  }

  /** Parents that pending entries wait for and that are not pending themselves: what to fetch. */
  missing(): string[] {
    return [...this.#waiting.keys()].filter((cid) => !this.#pending.has(cid)).sort()
  }

  /** The parents a pending entry still waits for; undefined when it is not pending. */
  pendingMissing(cid: string): string[] | undefined {
    const pending = this.#pending.get(cid)
    return pending === undefined ? undefined : [...pending.missing].sort()
  }

  /** The `seq` the device's next entry takes (its entries held here form one chain). */
  nextSeq(device: string): number {
    return (this.#maxSeq.get(device) ?? 0) + 1
  }

  /** The device's latest entry held here. */
  latestOf(device: string): HeldEntry | undefined {
    const cid = this.#seats.get(`${device} ${this.#maxSeq.get(device) ?? 0}`)
    return cid === undefined ? undefined : this.#held.get(cid)
  }

  /** Whether `x` is `e` or one of its ancestors. */
  precedes(x: HeldEntry, e: HeldEntry): boolean {
    return (e.vv.get(x.entry.device) ?? -1) >= x.entry.seq
  }

  /**
   * Whether every held entry is `held` or in its past. Each device's entries held are seq 1..max
   * (a parent is always held first), so the past of `held` counts 1 + the sum of its vector.
   */
  sawAll(held: HeldEntry): boolean {
    let count = 1
    for (const seq of held.vv.values()) count += seq
    return count === this.#held.size
  }

  /** The version vector of the past of held entries `prev`: per device, the highest `seq` in it. */
  pastOf(prev: string[]): Map<string, number> {
    const vv = new Map<string, number>()
    for (const cid of prev) {
      for (const [device, seq] of (this.#held.get(cid) as HeldEntry).vv) {
        if ((vv.get(device) ?? -1) < seq) vv.set(device, seq)
      }
    }
    return vv
  }

  /** Take an entry: add it if its parents are here (checking it), hold it pending otherwise. */
  offer(entry: IdentityEntry): OfferResult {
    const result: OfferResult = { status: 'added', added: [], dropped: [] }
    if (this.#held.has(entry.cid)) return { ...result, status: 'duplicate' }
    const missing = this.pendingMissing(entry.cid)
    if (missing !== undefined) return { ...result, status: 'pending', missing }
    this.#checkHeader(entry)
    const parents = entry.prev.filter((cid) => !this.#held.has(cid))
    if (parents.length > 0) {
      this.#hold(entry, parents)
      return { ...result, status: 'pending', missing: parents }
    }
    result.added.push(this.#insert(entry))
    this.#release(entry.cid, result)
    return result
  }

  /** Checks that need no parent: one genesis, this identity, no fork. */
  #checkHeader(entry: IdentityEntry): void {
    if (entry.kind === 'genesis') {
      throw new IdentityRuleError(`entry ${entry.cid} is a second genesis (this log's is ${this.identity})`)
    }
    if (entry.payload.identity !== this.identity) {
      throw new IdentityRuleError(
        `entry ${entry.cid} belongs to identity ${entry.payload.identity}, not ${this.identity}`,
      )
    }
    const other = this.#seats.get(`${entry.device} ${entry.seq}`)
    if (other !== undefined && other !== entry.cid) {
      const earlier = (this.#held.get(other)?.entry ?? this.#pending.get(other)?.entry) as IdentityEntry
      const [a, b] = [earlier, entry].sort((x, y) => (x.cid < y.cid ? -1 : 1)) as [IdentityEntry, IdentityEntry]
      throw new ForkError(
        `fork: device ${entry.device} signed two entries with seq ${entry.seq}: ${a.cid} and ${b.cid}`,
        {
          device: entry.device,
          seq: entry.seq,
          cids: [a.cid, b.cid],
          entries: [a.bytes, b.bytes],
        },
      )
    }
  }

  /**
   * Keep an entry until its parents come. When the pending set is full the oldest pending entry
   * is dropped: junk from a stranger cannot lock the set, and what an honest peer sent is asked
   * for again (`missing()` names the dropped entry to the entries that wait for it).
   */
  #hold(entry: IdentityEntry, missing: string[]): void {
    if (this.#init.maxPending <= 0) {
      throw new IdentityLogFullError(`identity log ${this.identity} keeps no entries waiting for their parents`)
    }
    if (this.#pending.size >= this.#init.maxPending) {
      const [oldest] = this.#pending.keys()
      if (oldest !== undefined) this.#unhold(oldest)
    }
    this.#pending.set(entry.cid, { entry, missing: new Set(missing) })
    this.#seats.set(`${entry.device} ${entry.seq}`, entry.cid)
    for (const cid of missing) {
      const set = this.#waiting.get(cid) ?? new Set()
      set.add(entry.cid)
      this.#waiting.set(cid, set)
    }
  }

  #unhold(cid: string): Pending | undefined {
    const pending = this.#pending.get(cid)
    if (pending === undefined) return undefined
    this.#pending.delete(cid)
    this.#seats.delete(`${pending.entry.device} ${pending.entry.seq}`)
    for (const parent of pending.missing) {
      const waiters = this.#waiting.get(parent)
      waiters?.delete(cid)
      if (waiters?.size === 0) this.#waiting.delete(parent)
    }
    return pending
  }

  /** Add the pending entries that waited for `cid`, and those that waited for them, and so on. */
  #release(cid: string, result: OfferResult): void {
    const queue = [cid]
    for (let parent = queue.shift(); parent !== undefined; parent = queue.shift()) {
      const waiters = this.#waiting.get(parent)
      if (waiters === undefined) continue
      this.#waiting.delete(parent)
      for (const child of [...waiters].sort()) {
        const pending = this.#pending.get(child)
        if (pending === undefined) continue
        pending.missing.delete(parent)
        if (pending.missing.size > 0) continue
        this.#pending.delete(child)
        this.#seats.delete(`${pending.entry.device} ${pending.entry.seq}`)
        try {
          result.added.push(this.#insert(pending.entry))
          queue.push(child)
        } catch (error) {
          result.dropped.push({ cid: child, error: error as Error })
          this.#dropDescendants(child, result)
        }
      }
    }
  }

  /** A refused pending entry's waiting descendants can never be added: drop them too. */
  #dropDescendants(cid: string, result: OfferResult): void {
    const waiters = this.#waiting.get(cid)
    this.#waiting.delete(cid)
    for (const child of waiters ?? []) {
      if (this.#unhold(child) === undefined) continue
      result.dropped.push({ cid: child, error: new IdentityRuleError(`entry ${child} descends from refused ${cid}`) })
      this.#dropDescendants(child, result)
    }
  }

  /** Check an entry whose parents are all held, and add it. */
  #insert(entry: IdentityEntry): HeldEntry {
    if (this.#held.size >= this.#init.maxEntries) {
      throw new IdentityLogFullError(`identity log ${this.identity} holds ${this.#held.size} entries, the most`)
    }
    const held: HeldEntry = { entry, vv: this.pastOf(entry.prev) }
    const expected = (held.vv.get(entry.device) ?? 0) + 1
    if (entry.seq !== expected) {
      throw new IdentityRuleError(
        `entry ${entry.cid}: seq ${entry.seq} of device ${entry.device}, expected ${expected} (1 + its latest entry in prev's past)`,
      )
    }
    held.vv.set(entry.device, entry.seq)
    this.#checkPast(held)
    this.#commit(held)
    return held
  }

  /**
   * Rules about the entry's causal past, necessary conditions only: its writer and the device it
   * removes were added in it (or are the first device). Whether those additions took effect, and
   * whether a removal in the past did, is for the merge to say (rules.ts), not for this check.
   */
  #checkPast(held: HeldEntry): void {
    const { entry } = held
    const refuse = (rule: string) => new IdentityRuleError(`entry ${entry.cid}: ${rule}`)
    const first = this.genesis.entry.device
    const wasAdded = (device: string) =>
      device === first || (this.#addsOf.get(device)?.some((x) => this.precedes(x, held)) ?? false)
    // A recovery is signed by the new device itself: it is what brings that device in.
    if (entry.kind !== 'recover' && !wasAdded(entry.device)) {
      throw refuse(`signed by ${entry.device}, not a device of the identity in its past`)
    }
    if (entry.kind === 'addDevice') {
      const target = entry.joined.device
      if (entry.joined.identity !== this.identity) {
        throw refuse(`its join record names identity ${entry.joined.identity}`)
      }
      if (target === entry.device) throw refuse('a device cannot add itself')
      if (target === first) throw refuse(`adds ${target}, the first device`)
    } else if (entry.kind === 'removeDevice') {
      if (!wasAdded(entry.payload.target)) throw refuse(`removes ${entry.payload.target}, never added in its past`)
    }
  }

  #commit(held: HeldEntry): void {
    const { entry } = held
    this.#held.set(entry.cid, held)
    this.#seats.set(`${entry.device} ${entry.seq}`, entry.cid)
    if ((this.#maxSeq.get(entry.device) ?? -1) < entry.seq) this.#maxSeq.set(entry.device, entry.seq)
    for (const parent of entry.prev) this.#heads.delete(parent)
    this.#heads.add(entry.cid)
    if (entry.kind === 'addDevice') push(this.#addsOf, entry.joined.device, held)
    if (entry.kind === 'recover') push(this.#addsOf, entry.device, held)
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}
