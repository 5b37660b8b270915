import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { checkFile, checkTree } from '../scripts/check-layers.ts'
import { REPO_ROOT } from '../src/testing/testnet.ts'

const SRC = join(REPO_ROOT, 'src')
const reasons = (file: string, source: string) => checkFile(SRC, join(SRC, file), source).map((v) => v.reason)

describe('dependency-direction check', () => {
  it('passes on the tree as it is', () => {
    assert.deepEqual(checkTree(SRC), [])
  })

  it('fails a lower layer importing a higher one', () => {
    assert.match(
      reasons('core/x.ts', "import { createNode } from '../node/node.ts'")[0] ?? '',
      /core\/ \(lower\) imports node\//,
    )
    assert.match(
      reasons('net/x.ts', "export { startDaemon } from '../daemon/daemon.ts'")[0] ?? '',
      /net\/ \(lower\) imports daemon\//,
    )
    assert.match(
      reasons('node/x.ts', "const m = await import('../cli/main.ts')")[0] ?? '',
      /node\/ \(lower\) imports cli\//,
    )
  })

  it('fails libp2p outside net/ and sibling imports', () => {
    assert.match(reasons('node/x.ts', "import { createLibp2p } from 'libp2p'")[0] ?? '', /only src\/net\//)
    assert.match(reasons('identity/x.ts', "import { tcp } from '@libp2p/tcp'")[0] ?? '', /only src\/net\//)
    assert.match(reasons('store/x.ts', "import { x } from '../net/index.ts'")[0] ?? '', /sibling/)
  })

  it('allows imports that point down', () => {
    assert.deepEqual(
      reasons('daemon/x.ts', "import { createNode } from '../node/node.ts'\nimport { x } from '../core/errors.ts'"),
      [],
    )
    assert.deepEqual(reasons('net/x.ts', "import { tcp } from '@libp2p/tcp'"), [])
  })

  it("keeps each service's surfaces in their layers and to their own service", () => {
    // A service's api/ is daemon-layer code: it may use the daemon's helpers and its own service...
    assert.deepEqual(
      reasons(
        'content/api/routes.ts',
        "import { errorResponses } from '../../daemon/schemas.ts'\nimport type { Content } from '../index.ts'",
      ),
      [],
    )
    // ...but not another service's surface, nor its own service's internals.
    assert.match(
      reasons('content/api/routes.ts', "import { messagingApi } from '../../messaging/api/routes.ts'")[0] ?? '',
      /content's daemon surface imports messaging's/,
    )
    assert.match(
      reasons('content/api/routes.ts', "import { Swarm } from '../swarm.ts'")[0] ?? '',
      /through its index\.ts/,
    )
    // The service itself never imports its surfaces (they are a higher layer).
    assert.match(
      reasons('content/content.ts', "import { contentApi } from './api/routes.ts'")[0] ?? '',
      /content\/ \(lower\) imports daemon\//,
    )
  })

  it('lets the dashboard import API types only', () => {
    assert.deepEqual(reasons('content/web/files.tsx', "import type { Transfer } from '../api/schemas.ts'"), [])
    assert.match(
      reasons('content/web/files.tsx', "import { transfer } from '../api/schemas.ts'")[0] ?? '',
      /types only/,
    )
    assert.match(
      reasons('content/web/files.tsx', "import { Content } from '../index.ts'")[0] ?? '',
      /the dashboard imports only API types/,
    )
    assert.match(
      reasons('../web/src/views/peers.tsx', "import type { PeerConnection } from '../../../src/net/types.ts'")[0] ?? '',
      /the dashboard imports only API types/,
    )
  })
})
