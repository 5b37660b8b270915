// The native WebRTC module (node-datachannel) loads a binary that cannot be downloaded here
// (installed with --ignore-scripts). The benchmark never uses WebRTC: replace its loader with a
// stub that fails loudly if anything does use it.
import { readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const STUB = `const fail = () => { throw new Error('WebRTC (node-datachannel) is stubbed out in this benchmark') }
const stub = new Proxy(function () {}, { get: (_t, p) => (p === 'prototype' ? {} : p === Symbol.toPrimitive || p === 'then' ? undefined : stub), apply: fail, construct: fail })
`

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* walk(path)
    else yield path
  }
}

let n = 0
for (const path of walk(new URL('./node_modules', import.meta.url).pathname)) {
  if (path.endsWith('node-datachannel/dist/esm/lib/node-datachannel.mjs')) {
    writeFileSync(path, `${STUB}export default stub\n`)
    n++
  } else if (path.endsWith('node-datachannel/dist/cjs/lib/node-datachannel.cjs')) {
    writeFileSync(path, `'use strict'\n${STUB}module.exports = stub\n`)
    n++
  }
}
console.error(`stubbed ${n} node-datachannel loaders`)
