/** Files and folders on disk as importer candidates: paths relative to the parent, names kept. */
import { createReadStream } from 'node:fs'
import { lstat, readdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { InvalidInputError } from '../core/errors.ts'

export interface Candidate {
  /** POSIX path inside the import, e.g. `photos/2026/a.jpg`. */
  path: string
  /** The file's bytes (absent for a folder). */
  content?: AsyncIterable<Uint8Array> | Iterable<Uint8Array>
  size: number
}

/** Walk a file or folder (symlinks are refused, not followed). */
export async function* localCandidates(path: string): AsyncGenerator<Candidate> {
  yield* walk(path, basename(path))
}

async function* walk(path: string, name: string): AsyncGenerator<Candidate> {
  const info = await lstat(path).catch(() => {
    throw new InvalidInputError(`no such file or folder: ${path}`)
  })
  if (info.isSymbolicLink()) throw new InvalidInputError(`${path} is a symbolic link; add its target instead`)
  if (info.isFile()) {
    yield { path: name, size: info.size, content: readLazily(path) }
    return
  }
  if (!info.isDirectory()) throw new InvalidInputError(`${path} is neither a file nor a folder`)
  const entries = (await readdir(path)).sort()
  if (entries.length === 0) yield { path: name, size: 0 }
  for (const entry of entries) yield* walk(join(path, entry), `${name}/${entry}`)
}

/** The file is opened only when its content is read, so walking a tree opens nothing. */
async function* readLazily(path: string): AsyncGenerator<Uint8Array> {
  yield* createReadStream(path, { highWaterMark: 1024 * 1024 })
}

/** Total bytes under a path (for progress). */
export async function totalSize(path: string): Promise<number> {
  let total = 0
  for await (const c of localCandidates(path)) total += c.size
  return total
}
