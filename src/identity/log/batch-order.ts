/**
 * Ordering a whole log received at once, so each entry comes after its parents and none has to
 * wait in the pending set. Entries naming a parent that is not in the batch (nor held) are refused.
 */
import { InvalidInputError } from '../../core/errors.ts'
import type { IdentityEntry } from './entry-codec.ts'

/** `batch` (CID to entry) ordered parents first; `known(cid)` says whether a parent is held already. */
export function batchOrder(batch: Map<string, IdentityEntry>, known: (cid: string) => boolean): IdentityEntry[] {
  const children = new Map<string, IdentityEntry[]>()
  const waiting = new Map<IdentityEntry, number>()
  const ready: IdentityEntry[] = []
  for (const entry of batch.values()) {
    const parents = entry.prev.filter((cid) => !known(cid))
    for (const parent of parents) {
      if (!batch.has(parent)) {
        throw new InvalidInputError(`entry ${entry.cid} names parent ${parent}, which is not in the log`)
      }
      const list = children.get(parent)
      if (list === undefined) children.set(parent, [entry])
      else list.push(entry)
    }
    waiting.set(entry, parents.length)
    if (parents.length === 0) ready.push(entry)
  }
  const order: IdentityEntry[] = []
  for (let next = ready.pop(); next !== undefined; next = ready.pop()) {
    order.push(next)
    for (const child of children.get(next.cid) ?? []) {
      const left = (waiting.get(child) as number) - 1
      waiting.set(child, left)
      if (left === 0) ready.push(child)
    }
  }
  // A cycle needs a hash collision (each entry names its parents' hashes): refuse rather than loop.
  if (order.length !== batch.size) throw new InvalidInputError('the log has entries in a cycle')
  return order
}
