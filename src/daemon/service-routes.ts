/**
 * Each registered service's HTTP surface, keyed by its name in the node's registry: a service in
 * the registry without an entry here is a compile error. The routes live in the service's folder
 * (`src/<service>/api/`).
 */

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { messagingApi } from '../messaging/api/routes.ts'
import type { ServiceName } from '../node/registry.ts'
import { transfer } from './content-schemas.ts'
import { registerContentRoutes } from './routes/content.ts'
import { registerUploadRoutes } from './routes/uploads.ts'
import type { ServiceApi } from './service-api.ts'

const contentApi: ServiceApi = {
  schemas: [transfer],
  routes: async (app, { node, hub }) => {
    const transfers = registerContentRoutes(app, node, hub)
    app.addHook('preClose', async () => transfers.cancelAll())
    const uploads =
      node.home === undefined ? await mkdtemp(join(tmpdir(), 'lateral-uploads-')) : join(node.home, 'uploads')
    await registerUploadRoutes(app, node, transfers, uploads)
    if (node.home === undefined) app.addHook('onClose', async () => rm(uploads, { recursive: true, force: true }))
  },
}

export const SERVICE_APIS: { readonly [K in ServiceName]: ServiceApi } = {
  messaging: messagingApi,
  content: contentApi,
}
