/** Routes of the delegation service: grant, list, show, revoke (a Fastify plugin). */
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../../daemon/schemas.ts'
import type { ServiceApi } from '../../daemon/service-api.ts'
import {
  type DelegationParams,
  delegationParams,
  delegationSchemas,
  delegationView,
  type GrantBody,
  grantBody,
  grantReply,
  type ListQuery,
  listQuery,
} from './schemas.ts'

const one = { 200: Type.Ref(delegationView), ...errorResponses }

export const delegationApi: ServiceApi = {
  schemas: delegationSchemas,
  routes: async (app, { node }) => {
    const delegation = node.delegation

    app.post<{ Body: GrantBody }>(
      '/v1/delegations',
      {
        schema: {
          summary: 'Grant a right to a peer or a person (one delegation per device), and send it to them',
          body: grantBody,
          response: { 200: grantReply, ...errorResponses },
        },
      },
      async (req) => ({ delegations: await delegation.grant(req.body) }),
    )

    app.get<{ Querystring: ListQuery }>(
      '/v1/delegations',
      {
        schema: {
          summary: 'Delegations given and received, each with its state now',
          querystring: listQuery,
          response: { 200: grantReply, ...errorResponses },
        },
      },
      async (req) => ({ delegations: await delegation.list(req.query.direction) }),
    )

    app.get<{ Params: DelegationParams }>(
      '/v1/delegations/:cid',
      { schema: { summary: 'One delegation, with its state now', params: delegationParams, response: one } },
      async (req) => delegation.show(req.params.cid),
    )

    app.post<{ Params: DelegationParams }>(
      '/v1/delegations/:cid/revoke',
      {
        schema: {
          summary: 'Revoke a delegation this node gave: the revocation is sent to its holder and gossiped',
          params: delegationParams,
          response: one,
        },
      },
      async (req) => delegation.revoke(req.params.cid),
    )
  },
}
