/**
 * Dependency-direction check: a lower layer importing a higher one fails, so does a layer
 * importing a sibling's internals, and so does libp2p imported anywhere but `src/net/`.
 * Layers (DESIGN.md): core < store | net < services (identity, messaging, content, ...) < node < daemon < cli | web < testing.
 * identity/ is a service: its log and pairing talk over the network; the keystore lives there too.
 *
 * A service's folder holds its surfaces too: `src/<service>/api/` belongs to the daemon layer,
 * `src/<service>/cli/` to the CLI and `src/<service>/web/` to the dashboard, each of them owned by
 * that service (one service's surface never imports another's). The dashboard (`web/src/` and the
 * services' `web/` folders) imports nothing of the node but API types (`import type` from an
 * `api/schemas.ts` or `daemon/schemas.ts`) and the few browser-safe core modules below.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const RANK: Record<string, number> = {
  core: 0,
  identity: 2,
  store: 1,
  net: 1,
  content: 2,
  messaging: 2,
  delegation: 2,
  mailbox: 2,
  storage: 2,
  recovery: 2,
  ledger: 2,
  node: 3,
  daemon: 4,
  cli: 5,
  web: 5,
  testing: 6,
}

/** Surface folders inside a service folder, and the layer each belongs to. */
const SURFACES: Record<string, string> = { api: 'daemon', cli: 'cli', web: 'web' }

/** What the dashboard may import from src/ besides API types: browser-safe, dependency-free modules. */
const WEB_RUNTIME = ['core/error-registry.ts', 'core/sse.ts']

const LIBP2P = /^(libp2p|@libp2p\/|@chainsafe\/libp2p-|@multiformats\/multiaddr)/

export interface Violation {
  file: string
  specifier: string
  reason: string
}

interface Place {
  layer: string
  /** The service a surface file belongs to (`content/api/x.ts` -> `content`). */
  owner?: string
}

/**
 * The layer of a path relative to src/ (`net/net.ts` -> `net`; `index.ts` -> the package root;
 * `content/api/routes.ts` -> `daemon`, owned by `content`; `../web/src/x.tsx` -> `web`).
 */
function placeOf(relPath: string): Place {
  if (relPath.startsWith('../web/')) return { layer: 'web' }
  const parts = relPath.split('/')
  const first = parts[0] as string
  if (parts.length === 1) return { layer: 'root' }
  const surface = SURFACES[parts[1] as string]
  if (parts.length > 2 && RANK[first] === 2 && surface !== undefined) return { layer: surface, owner: first }
  return { layer: first }
}

export function checkFile(srcRoot: string, file: string, source: string): Violation[] {
  const violations: Violation[] = []
  const rel = relative(srcRoot, file)
  const fromPlace = placeOf(rel)
  const from = fromPlace.layer
  const imports = [
    ...source.matchAll(/(?:import|export)\s+(type\s)?[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].flatMap((m) => {
    const specifier = m[2] ?? m[3]
    return specifier === undefined ? [] : [{ specifier, typeOnly: m[1] !== undefined }]
  })
  for (const { specifier, typeOnly } of imports) {
    if (LIBP2P.test(specifier)) {
      if (from !== 'net') violations.push({ file: rel, specifier, reason: 'only src/net/ may import libp2p' })
      continue
    }
    if (!specifier.startsWith('.')) continue
    const target = relative(srcRoot, resolve(dirname(file), specifier))
    const toPlace = placeOf(target)
    if (from === 'web') {
      const reason = webImport(target, toPlace, typeOnly)
      if (reason !== undefined) violations.push({ file: rel, specifier, reason })
      continue
    }
    if (target.startsWith('..')) {
      violations.push({ file: rel, specifier, reason: 'imports from outside src/' })
      continue
    }
    const to = toPlace.layer
    if (fromPlace.owner !== undefined && toPlace.owner !== undefined && fromPlace.owner !== toPlace.owner) {
      violations.push({
        file: rel,
        specifier,
        reason: `${fromPlace.owner}'s ${from} surface imports ${toPlace.owner}'s; go through a lower layer`,
      })
      continue
    }
    if (fromPlace.owner !== undefined && target.startsWith(`${fromPlace.owner}/`) && toPlace.owner === undefined) {
      // A service's own surfaces use the service through its public files.
      if (!isPublicFile(target)) {
        violations.push({ file: rel, specifier, reason: `surfaces use ${fromPlace.owner}/ through its index.ts` })
      }
      continue
    }
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

/**
 * Files of a layer that other layers may import directly besides index.ts: each layer's
 * registry definition (`service.ts`) and config section (`config.ts`), and a few type modules.
 */
function isPublicFile(target: string): boolean {
  if (/^[a-z-]+\/(index|service|config)\.ts$/.test(target)) return true
  return ['store/datastore.ts', 'identity/keystore.ts', 'net/types.ts', 'net/errors.ts'].includes(target)
}

/** Why a dashboard file may not import `target`, or undefined when it may. */
function webImport(target: string, place: Place, typeOnly: boolean): string | undefined {
  if (place.layer === 'web') return undefined
  if (/(^|\/)(api\/schemas|daemon\/schemas)\.ts$/.test(target)) {
    return typeOnly ? undefined : 'the dashboard takes API schemas as types only (`import type`)'
  }
  if (WEB_RUNTIME.includes(target)) return undefined
  return `the dashboard imports only API types and ${WEB_RUNTIME.join(', ')}`
}

function listTs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return listTs(path)
    return /\.tsx?$/.test(path) ? [path] : []
  })
}

/** Every source file checked: src/ and the dashboard's web/src/. */
function sourceFiles(srcRoot: string): string[] {
  return [...listTs(srcRoot), ...listTs(join(srcRoot, '..', 'web', 'src'))]
}

export function checkTree(srcRoot: string): Violation[] {
  return sourceFiles(srcRoot).flatMap((file) => checkFile(srcRoot, file, readFileSync(file, 'utf8')))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const srcRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src')
  const violations = checkTree(srcRoot)
  for (const v of violations) console.error(`src/${v.file}: ${v.specifier}: ${v.reason}`)
  if (violations.length > 0) {
    console.error(`layer check: ${violations.length} violation(s)`)
    process.exit(1)
  }
  console.log(`layer check: ${sourceFiles(srcRoot).length} files, dependencies point down only`)
}
