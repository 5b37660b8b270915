// The reference docs say what the code does: the error table, the CLI and API references.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { apiDoc, cliDoc, configDoc } from '../scripts/gen-docs.ts'
import { ERRORS } from '../src/core/error-registry.ts'
import { SERVICES } from '../src/node/registry.ts'
import { REPO_ROOT } from '../src/testing/testnet.ts'

const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8')

describe('docs', () => {
  it('docs/errors.md lists every registry entry with its code, status and exit code', () => {
    const doc = read('docs/errors.md')
    const rows = new Map(
      [...doc.matchAll(/^\|\s*(\w+)\s*\|\s*(LAT_ERR_\w+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|/gm)].map((m) => [
        m[1],
        { code: m[2], status: Number(m[3]), exit: Number(m[4]) },
      ]),
    )
    assert.deepEqual([...rows.keys()].sort(), Object.keys(ERRORS).sort())
    for (const [name, entry] of Object.entries(ERRORS)) {
      assert.deepEqual(rows.get(name), { code: entry.code, status: entry.status, exit: entry.exit }, name)
    }
    const codes = Object.values(ERRORS).map((e) => e.code)
    assert.equal(new Set(codes).size, codes.length, 'codes are unique')
  })

  it('docs/cli.md and docs/api.md are generated from the current code', async () => {
    assert.equal(read('docs/cli.md'), cliDoc(), 'run: node scripts/gen-docs.ts')
    assert.equal(read('docs/api.md'), await apiDoc(), 'run: node scripts/gen-docs.ts')
  })

  it('docs/config.md lists every setting of the config schema with its default', () => {
    const doc = read('docs/config.md')
    assert.equal(doc, configDoc(doc), 'run: node scripts/gen-docs.ts')
    assert.match(doc, /\| `content\.uploadSlots` \| `8` \|/)
  })

  it('docs/api.md documents every event the registered services declare', () => {
    const doc = read('docs/api.md')
    for (const service of SERVICES) {
      for (const type of service.events)
        assert.match(doc, new RegExp(`\\| \`${type}\` \\|`), `${service.name}: ${type}`)
    }
  })

  it('the README starts with the two commands', () => {
    const readme = read('README.md')
    const firstBlock = readme.slice(readme.indexOf('```'), readme.indexOf('```', readme.indexOf('```') + 3))
    assert.match(firstBlock, /npm ci && npm start/)
    assert.match(firstBlock, /npm test/)
  })
})
