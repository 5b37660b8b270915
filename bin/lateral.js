#!/usr/bin/env node
// Launcher of the `lateral` command. Plain JavaScript that any Node version can parse: Lateral
// needs Node 22+, so on an older system Node it re-runs itself on the Node pinned in
// devDependencies (the `node` package) when that is installed, and otherwise says what to do.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const entry = join(root, 'dist', 'cli', 'main.js')
const major = Number(process.versions.node.split('.')[0])

if (!existsSync(entry)) {
  process.stderr.write(`lateral: ${entry} is missing; run \`npm ci\` (or \`npm run build\`) in ${root}\n`)
  process.exit(1)
}

if (major >= 22) {
  await import(entry)
} else {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node')
  if (!existsSync(pinned)) {
    process.stderr.write(`lateral: Node ${process.versions.node} is too old; Lateral needs Node 22 or newer\n`)
    process.exit(1)
  }
  const child = spawn(pinned, [entry, ...process.argv.slice(2)], { stdio: 'inherit' })
  // The terminal sends Ctrl-C to the whole process group, so the child already has SIGINT;
  // signals sent to this process alone are passed on.
  process.on('SIGINT', () => {})
  for (const sig of ['SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)))
}
