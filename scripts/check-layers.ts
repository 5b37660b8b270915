/**
 * Dependency-direction check: a lower layer importing a higher one fails, so does a layer
 * importing a sibling's internals, and so does libp2p imported anywhere but `src/net/`.
 * Layers (DESIGN.md): core < identity | store | net < services < node < daemon < cli < testing.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const RANK: Record<string, number> = {
  core: 0,
  identity: 1,
  store: 1,
  net: 1,
  content: 2,
  messaging: 2,
  delegation: 2,
  recovery: 2,
  ledger: 2,
  node: 3,
  daemon: 4,
  cli: 5,
  testing: 6,
}

const LIBP2P = /^(libp2p|@libp2p\/|@chainsafe\/libp2p-|@multiformats\/multiaddr)/

export interface Violation {
  file: string
  specifier: string
  reason: string
}

/** The layer of a path relative to src/ (`net/net.ts` -> `net`; `index.ts` -> the package root). */
function layerOf(relPath: string): string {
  const first = relPath.split('/')[0] as string
  return relPath.includes('/') ? first : 'root'
}

export function checkFile(srcRoot: string, file: string, source: string): Violation[] {
  const violations: Violation[] = []
  const rel = relative(srcRoot, file)
  const from = layerOf(rel)
  const specifiers = [
    ...source.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ]
    .map((m) => m[1] ?? m[2])
    .filter((s): s is string => s !== undefined)
  for (const specifier of specifiers) {
    if (LIBP2P.test(specifier)) {
      if (from !== 'net') violations.push({ file: rel, specifier, reason: 'only src/net/ may import libp2p' })
      continue
    }
    if (!specifier.startsWith('.')) continue
    const target = relative(srcRoot, resolve(dirname(file), specifier))
    if (target.startsWith('..')) {
      violations.push({ file: rel, specifier, reason: 'imports from outside src/' })
      continue
    }
    const to = layerOf(target)
    if (from === 'root' || to === from) continue
    if (to === 'root') {
      violations.push({ file: rel, specifier, reason: 'layers must not import the package entry point' })
      continue
    }
    const fromRank = RANK[from]
    const toRank = RANK[to]
    if (fromRank === undefined || toRank === undefined) {
      violations.push({
        file: rel,
        specifier,
        reason: `unknown layer "${fromRank === undefined ? from : to}" (add it to RANK)`,
      })
    } else if (toRank > fromRank) {
      violations.push({ file: rel, specifier, reason: `${from}/ (lower) imports ${to}/ (higher)` })
    } else if (toRank === fromRank) {
      violations.push({ file: rel, specifier, reason: `${from}/ imports its sibling ${to}/; go through a lower layer` })
    } else if (
      !target.endsWith('index.ts') &&
      toRank >= 1 &&
      toRank <= 2 &&
      from !== 'testing' &&
      !isPublicFile(target)
    ) {
      // Services and identity/store/net are used through their index (their exported interface).
      violations.push({ file: rel, specifier, reason: `import ${to}/ through ${to}/index.ts, not its internals` })
    }
  }
  return violations
}

/** Files of a layer that other layers may import directly besides index.ts. */
function isPublicFile(target: string): boolean {
  return ['store/datastore.ts', 'identity/keystore.ts', 'net/types.ts', 'net/errors.ts'].includes(target)
}

function listTs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return listTs(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

export function checkTree(srcRoot: string): Violation[] {
  return listTs(srcRoot).flatMap((file) => checkFile(srcRoot, file, readFileSync(file, 'utf8')))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const srcRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src')
  const violations = checkTree(srcRoot)
  for (const v of violations) console.error(`src/${v.file}: ${v.specifier}: ${v.reason}`)
  if (violations.length > 0) {
    console.error(`layer check: ${violations.length} violation(s)`)
    process.exit(1)
  }
  console.log(`layer check: ${listTs(srcRoot).length} files, dependencies point down only`)
}
