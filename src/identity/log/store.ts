/**
 * Identity logs kept in a datastore: one key per entry, `/lateral/identity-log/<identity>/<cid>`,
 * holding the entry's bytes as received. Loading verifies everything again (IdentityLog.verify),
 * so a store that was altered on disk yields an error, never a wrong state.
 */
import { type Datastore, Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import { DEFAULT_LOG_MAX_ENTRIES } from '../../core/constants.ts'
import { IdentityLogFullError, InvalidInputError } from '../../core/errors.ts'
import { recordCid } from '../../core/signed-record.ts'
import { IdentityLog, type IdentityLogInit } from './identity-log.ts'

const PREFIX = '/lateral/identity-log'

export interface IdentityLogStore {
  /** Keep one entry of an identity's log (the bytes as received; writing it twice is harmless). */
  put(identity: string, bytes: Uint8Array): Promise<void>
  /** Keep every entry `log` holds that is not stored yet; returns how many were written. */
  save(log: IdentityLog): Promise<number>
  /** The stored log of `identity`, verified; undefined when nothing is stored for it. */
  load(identity: string, init?: IdentityLogInit): Promise<IdentityLog | undefined>
  /** Identities with a stored log, sorted. */
  identities(): Promise<string[]>
  /** Forget an identity's log. */
  delete(identity: string): Promise<void>
}

export function createIdentityLogStore(datastore: Datastore): IdentityLogStore {
  const prefixOf = (identity: string) => `${PREFIX}/${checkedCid(identity)}/`
  const keyOf = (identity: string, cid: string) => new Key(`${prefixOf(identity)}${cid}`)

  return {
    async put(identity, bytes) {
      await datastore.put(keyOf(identity, recordCid(bytes).toString()), bytes)
    },

    async save(log) {
      let written = 0
      for (const bytes of log.entries()) {
        const key = keyOf(log.id, recordCid(bytes).toString())
        if (await datastore.has(key)) continue
        await datastore.put(key, bytes)
        written++
      }
      return written
    },

    async load(identity, init = {}) {
      const max = init.maxEntries ?? DEFAULT_LOG_MAX_ENTRIES
      const entries: Uint8Array[] = []
      for await (const { value } of datastore.query({ prefix: prefixOf(identity) })) {
        // Stop reading at the bound: a store filled beyond it is refused, not loaded into memory.
        if (entries.length === max) {
          throw new IdentityLogFullError(`the stored log of ${identity} has more than ${max} entries`)
        }
        entries.push(value)
      }
      if (entries.length === 0) return undefined
      return IdentityLog.verify(identity, entries, init)
    },

    async identities() {
      const found = new Set<string>()
      for await (const key of datastore.queryKeys({ prefix: `${PREFIX}/` })) {
        const identity = key
          .toString()
          .slice(PREFIX.length + 1)
          .split('/')[0]
        if (identity !== undefined && identity !== '') found.add(identity)
      }
      return [...found].sort()
    },

    async delete(identity) {
      const keys: Key[] = []
      for await (const key of datastore.queryKeys({ prefix: prefixOf(identity) })) keys.push(key)
      for (const key of keys) await datastore.delete(key)
    },
  }
}

/** An identity ID as a key segment: a CID in its string form, nothing that could add a path. */
function checkedCid(identity: string): string {
  try {
    const cid = CID.parse(identity)
    if (cid.toString() === identity) return identity
  } catch {}
  throw new InvalidInputError(`not an identity ID: ${JSON.stringify(identity.slice(0, 80))}`)
}
