/**
 * Import: files and folders (as candidates) become a UnixFS DAG written to a blockstore, with
 * progress as the bytes are read. The last entry the importer yields is the root.
 */
import { importer, type WritableStorage } from 'ipfs-unixfs-importer'
import type { ProgressOptions } from '../core/abort.ts'
import { InvalidInputError } from '../core/errors.ts'
import { type AddOptions, importerOptions } from './import-options.ts'
import type { Candidate } from './local-source.ts'

export interface AddProgress {
  /** Bytes read from the source so far. */
  bytes: number
  /** Total bytes, when known before reading. */
  total?: number
  /** The file being read. */
  path: string
}

export interface AddedEntry {
  path: string
  cid: string
  size: number
}

export interface AddResult {
  cid: string
  size: number
  entries: AddedEntry[]
}

export type ImportOptions = AddOptions & ProgressOptions<AddProgress> & { total?: number }

export async function importCandidates(
  source: AsyncIterable<Candidate> | Iterable<Candidate>,
  blockstore: WritableStorage,
  options: ImportOptions = {},
): Promise<AddResult> {
  let bytes = 0
  const counted = async function* (this: void): AsyncGenerator<{ path: string; content?: AsyncIterable<Uint8Array> }> {
    for await (const candidate of source) {
      options.signal?.throwIfAborted()
      if (candidate.content === undefined) {
        yield { path: candidate.path }
        continue
      }
      const content = candidate.content
      yield {
        path: candidate.path,
        content: (async function* () {
          for await (const chunk of content) {
            options.signal?.throwIfAborted()
            bytes += chunk.length
            options.onProgress?.({
              bytes,
              path: candidate.path,
              ...(options.total === undefined ? {} : { total: options.total }),
            })
            yield chunk
          }
        })(),
      }
    }
  }
  const entries: AddedEntry[] = []
  for await (const entry of importer(counted(), blockstore, importerOptions(options))) {
    entries.push({ path: entry.path ?? '', cid: entry.cid.toString(), size: Number(entry.size) })
  }
  const root = entries.at(-1)
  if (root === undefined) throw new InvalidInputError('nothing to add')
  return { cid: root.cid, size: root.size, entries }
}
