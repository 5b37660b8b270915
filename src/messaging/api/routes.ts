/** Routes of the messaging service (a Fastify plugin): topics and direct messages. */
import type { ServiceApi } from '../../daemon/service-api.ts'
import { directMessageRoutes } from './direct-message-routes.ts'
import { messagingSchemas } from './schemas.ts'
import { topicRoutes } from './topic-routes.ts'

export const messagingApi: ServiceApi = {
  schemas: messagingSchemas,
  routes: async (app, context) => {
    await app.register(topicRoutes, context)
    await app.register(directMessageRoutes, context)
  },
}
