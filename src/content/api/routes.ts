/**
 * Routes of the content service (a Fastify plugin): files (add, get, ls, data, providers), pins
 * (and GC), limits and stats, browser uploads and one-time download links. Long operations run
 * as the daemon's transfers (GET /v1/transfers/...).
 */
import type { ServiceApi } from '../../daemon/service-api.ts'
import { downloadLinkRoutes } from './download-links.ts'
import { fileRoutes } from './file-routes.ts'
import { limitRoutes } from './limit-routes.ts'
import { pinRoutes } from './pin-routes.ts'
import { uploadRoutes } from './uploads.ts'

export const contentApi: ServiceApi = {
  schemas: [],
  routes: async (app, context) => {
    await app.register(fileRoutes, context)
    await app.register(pinRoutes, context)
    await app.register(limitRoutes, context)
    await app.register(uploadRoutes, context)
    await app.register(downloadLinkRoutes, context)
  },
}
