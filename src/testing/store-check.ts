/**
 * Offline consistency check of a node's home (the daemon stopped): every block file in
 * `blocks/` hashes to its CID, and every pinned root's DAG is complete. Used after disk-full and
 * SIGKILL runs (test/disk-full.test.ts, `npm run bench -- kills`). Opening the LevelDB datastore
 * also proves it is readable: a corrupt one fails to open.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { firstMissing } from '../content/dag.ts'
import { PinStore } from '../content/pins.ts'
import { blockMatches } from '../content/verify.ts'
import { homePaths } from '../core/home.ts'
import { FsBlockstore } from '../store/blockstore.ts'
import { openDatastore } from '../store/datastore.ts'

export interface StoreReport {
  blocks: number
  /** Block files whose bytes do not hash to their name. */
  corrupt: string[]
  pins: number
  /** Pinned roots with a missing block, and the first one missing. */
  incompletePins: Array<{ root: string; missing: string }>
  /** Half-written files left in `blocks/.incoming` (removed at the next open). */
  incoming: number
}

export async function checkStore(home: string): Promise<StoreReport> {
  const paths = homePaths(home)
  const blocks = new FsBlockstore(paths.blocks)
  const report: StoreReport = { blocks: 0, corrupt: [], pins: 0, incompletePins: [], incoming: 0 }
  for await (const cid of blocks.cids()) {
    report.blocks++
    const bytes = await blocks.getBytes(cid).catch(() => undefined)
    if (bytes === undefined || !blockMatches(cid as CID, bytes)) report.corrupt.push(cid.toString())
  }
  report.incoming = (await readdir(join(paths.blocks, '.incoming')).catch(() => [])).length
  const store = await openDatastore(paths.datastore)
  try {
    for (const root of await new PinStore(store.datastore).roots()) {
      report.pins++
      const missing = await firstMissing(blocks, root)
      if (missing !== undefined) report.incompletePins.push({ root: root.toString(), missing: missing.toString() })
    }
  } finally {
    await store.close()
  }
  return report
}
