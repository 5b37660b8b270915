/**
 * The node's one structured store: LevelDB under `<home>/datastore`. libp2p's peer store and
 * DHT records live here under their own prefixes, so a restarted node remembers its peers.
 */
import { mkdir } from 'node:fs/promises'
import { LevelDatastore } from 'datastore-level'
import type { Datastore } from 'interface-datastore'
import { DaemonRunningError } from '../core/errors.ts'

export type { Datastore }

export interface OpenedDatastore {
  datastore: Datastore
  close(): Promise<void>
}

/**
 * Open (creating if needed) the LevelDB datastore at `path`. LevelDB holds an exclusive lock on
 * its folder: a second process on the same home gets DaemonRunningError, not a stack trace.
 */
export async function openDatastore(path: string): Promise<OpenedDatastore> {
  await mkdir(path, { recursive: true, mode: 0o700 })
  const store = new LevelDatastore(path)
  try {
    await store.open()
  } catch (err) {
    if (isLockError(err)) {
      throw new DaemonRunningError(`another Lateral process is using ${path} (LevelDB lock is held)`)
    }
    throw err
  }
  let closed = false
  return {
    datastore: store,
    async close() {
      if (closed) return
      closed = true
      await store.close()
    },
  }
}

function isLockError(err: unknown): boolean {
  for (let e: unknown = err; e != null; e = (e as { cause?: unknown }).cause) {
    const { code, message } = e as { code?: unknown; message?: unknown }
    if (code === 'LEVEL_LOCKED' || (typeof message === 'string' && /lock/i.test(message))) return true
  }
  return false
}
