/**
 * The deterministic merge (docs/protocols/identity.md, "Merge"): the state of a set of entries,
 * the same on every peer whatever order they arrived in, because it is computed from the set alone.
 *
 * 1. Order: topological (parents first); among entries ready at once, the smallest CID string first.
 * 2. Walk the order, applying each entry that `admit` (rules.ts) allows in the state so far and
 *    that is not forced void; an entry that is not admitted is void and changes nothing.
 * 3. Removals win over what was concurrent with them: an entry of device d that took effect and is
 *    not in the past of a removal of d that took effect is forced void, and the walk starts again.
 *    Removals are settled first: when a removal of d and a removal signed by d both took effect,
 *    concurrently, the one signed by d is voided, provided the removal that beats it is not itself
 *    beaten (one such always exists: see `conflicts`). Only then are other entries voided.
 *    Each round voids at least one more entry, so the walk ends within one round per entry.
 */
import type { EntryDag, HeldEntry } from './dag.ts'
import { setInForce } from './recovery-rules.ts'
import { admit, apply, initialState, type MergeState } from './rules.ts'

export interface Resolution {
  state: MergeState
  /** Every held entry, in merge order. */
  order: HeldEntry[]
  /** Entries that did not take effect, and why. */
  voided: Map<string, string>
  /** Walks it took (1 when nothing concurrent was voided). */
  rounds: number
}

export function resolve(dag: EntryDag): Resolution {
  const order = mergeOrder(dag)
  const forced = new Map<string, string>()
  for (let rounds = 1; ; rounds++) {
    const { state, applied, voided } = walk(dag, order, forced)
    const more = recoveryConflicts(dag, applied, state)
    if (more.size === 0) for (const [cid, reason] of conflicts(dag, applied)) more.set(cid, reason)
    if (more.size === 0) return { state, order, voided, rounds }
    for (const [cid, reason] of more) forced.set(cid, reason)
  }
}

/**
 * Take an entry that has every held entry in its past into a resolution: it is last in the merge
 * order and concurrent with nothing, so it voids nothing and applies if the state admits it.
 */
export function extend(resolution: Resolution, held: HeldEntry): void {
  resolution.order.push(held)
  const reason = admit(resolution.state, held, () => true)
  if (reason === undefined) apply(resolution.state, held)
  else resolution.voided.set(held.entry.cid, reason)
}

function walk(dag: EntryDag, order: HeldEntry[], forced: Map<string, string>) {
  const state = initialState(dag.genesis)
  const applied: HeldEntry[] = []
  const voided = new Map<string, string>()
  for (const held of order) {
    if (held === dag.genesis) continue
    const reason = forced.get(held.entry.cid) ?? admit(state, held, (x) => dag.precedes(x, held))
    if (reason === undefined) {
      apply(state, held)
      applied.push(held)
    } else {
      voided.set(held.entry.cid, reason)
    }
  }
  return { state, applied, voided }
}

/**
 * Entries to force void after a walk. A removal r2 beats an entry e of its target when e is not
 * in r2's past. Among removals, "r2 beats r1" only happens when r1 came first in the merge order
 * (after r2 its signer was no longer a device), so these edges never form a cycle and some beating
 * removal is itself unbeaten: those are applied first.
 */
function conflicts(dag: EntryDag, applied: HeldEntry[]): Map<string, string> {
  const bySigner = new Map<string, HeldEntry[]>()
  for (const held of applied) {
    const list = bySigner.get(held.entry.device)
    if (list === undefined) bySigner.set(held.entry.device, [held])
    else list.push(held)
  }
  const removals = applied.filter((h) => h.entry.kind === 'removeDevice')
  const beaten: Array<{ loser: HeldEntry; by: HeldEntry }> = []
  for (const by of removals) {
    const target = by.entry.kind === 'removeDevice' ? by.entry.payload.target : ''
    for (const loser of bySigner.get(target) ?? []) {
      if (loser !== by && !dag.precedes(loser, by)) beaten.push({ loser, by })
    }
  }
  const out = new Map<string, string>()
  const reason = (loser: HeldEntry, by: HeldEntry) =>
    `signed by ${loser.entry.device}, concurrent with its removal ${by.entry.cid}`
  const amongRemovals = beaten.filter(({ loser }) => loser.entry.kind === 'removeDevice')
  if (amongRemovals.length > 0) {
    const losers = new Set(amongRemovals.map(({ loser }) => loser))
    for (const { loser, by } of amongRemovals) {
      if (!losers.has(by)) out.set(loser.entry.cid, reason(loser, by))
    }
    return out
  }
  for (const { loser, by } of beaten) out.set(loser.entry.cid, reason(loser, by))
  return out
}

/**
 * A completed recovery replaces every device that was current: like a removal of each, it beats
 * their entries that are not in its past. Except a veto of that recovery, signed by one of them
 * before the recovery was due: the veto wins and the completion is void (vetoes first).
 */
function recoveryConflicts(dag: EntryDag, applied: HeldEntry[], state: MergeState): Map<string, string> {
  const out = new Map<string, string>()
  const beaten = new Map<string, string>()
  for (const c of applied) {
    if (c.entry.kind !== 'completeRecovery') continue
    const recoveryCid = c.entry.payload.recovery.toString()
    const recover = dag.get(recoveryCid)
    if (recover === undefined) continue
    const set = setInForce(state.guardianSets, recover.entry.time)
    const due = recover.entry.time + (set?.delay ?? 0)
    const replaced = new Set([...state.removed.values()].filter((r) => r.entry === c.entry.cid).map((r) => r.peerId))
    for (const held of dag.values()) {
      const e = held.entry
      if (!replaced.has(e.device) || dag.precedes(held, c)) continue
      if (e.kind === 'veto' && e.payload.recovery.toString() === recoveryCid && e.time < due) {
        out.set(c.entry.cid, `recovery ${recoveryCid} was vetoed by ${e.cid} before it was due`)
      } else if (applied.includes(held)) {
        beaten.set(e.cid, `signed by ${e.device}, concurrent with the recovery ${c.entry.cid} that replaced it`)
      }
    }
  }
  return out.size > 0 ? out : beaten
}

/** Topological order, parents first; among entries whose parents are all placed, the smallest CID. */
export function mergeOrder(dag: EntryDag): HeldEntry[] {
  const children = new Map<string, HeldEntry[]>()
  const waiting = new Map<HeldEntry, number>()
  for (const held of dag.values()) {
    waiting.set(held, held.entry.prev.length)
    for (const parent of held.entry.prev) {
      const list = children.get(parent)
      if (list === undefined) children.set(parent, [held])
      else list.push(held)
    }
  }
  const ready = new MinHeap()
  ready.push(dag.genesis)
  const order: HeldEntry[] = []
  for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
    order.push(next)
    for (const child of children.get(next.entry.cid) ?? []) {
      const left = (waiting.get(child) as number) - 1
      waiting.set(child, left)
      if (left === 0) ready.push(child)
    }
  }
  return order
}

/** A binary heap of entries by CID string. */
class MinHeap {
  readonly #items: HeldEntry[] = []

  push(item: HeldEntry): void {
    const a = this.#items
    a.push(item)
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1
      if (key(a[parent]) <= key(a[i])) break
      swap(a, i, parent)
      i = parent
    }
  }

  pop(): HeldEntry | undefined {
    const a = this.#items
    const top = a[0]
    const last = a.pop()
    if (a.length === 0 || last === undefined) return top
    a[0] = last
    for (let i = 0; ; ) {
      const l = 2 * i + 1
      const r = l + 1
      let min = i
      if (l < a.length && key(a[l]) < key(a[min])) min = l
      if (r < a.length && key(a[r]) < key(a[min])) min = r
      if (min === i) break
      swap(a, i, min)
      i = min
    }
    return top
  }
}

const key = (h: HeldEntry | undefined): string => (h as HeldEntry).entry.cid

function swap(a: HeldEntry[], i: number, j: number): void {
  const t = a[i] as HeldEntry
  a[i] = a[j] as HeldEntry
  a[j] = t
}
