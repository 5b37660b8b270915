/** Routes of the ledger (a Fastify plugin): chain summary, receipts with a peer, verify, forks, reputation. */
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../../daemon/schemas.ts'
import type { RouteContext, ServiceApi } from '../../daemon/service-api.ts'
import {
  forksReply,
  ledgerSchemas,
  ledgerSummary,
  peerReceipts,
  type ReceiptsQuery,
  type ReputationQuery,
  receiptsQuery,
  reputationList,
  reputationQuery,
  reputationView,
  type TargetParams,
  targetParams,
  type VerifyBody,
  verifyBody,
  verifyView,
} from './schemas.ts'

export const ledgerApi: ServiceApi = {
  schemas: ledgerSchemas,
  routes: async (app, { node }: RouteContext) => {
    const ledger = node.ledger

    app.get(
      '/v1/ledger',
      {
        schema: {
          summary:
            "This device's chain (head, length) and, per counterparty, bytes given and received and storage held",
          response: { 200: ledgerSummary, ...errorResponses },
        },
      },
      async () => ledger.summary(),
    )

    app.get<{ Params: TargetParams; Querystring: ReceiptsQuery }>(
      '/v1/ledger/peers/:target',
      {
        schema: {
          summary: 'The receipts with one counterparty (each device of a contact or identity), newest first',
          params: targetParams,
          querystring: receiptsQuery,
          response: { 200: peerReceipts, ...errorResponses },
        },
      },
      async (req) => ledger.receiptsWith(req.params.target, req.query.limit),
    )

    app.post<{ Body: VerifyBody }>(
      '/v1/ledger/verify',
      {
        schema: {
          summary:
            "Fetch another peer's chain, verify every entry, and report any fork found (proofs are kept and gossiped)",
          body: verifyBody,
          response: { 200: verifyView, ...errorResponses },
        },
      },
      async (req) => ledger.verify(req.body.peer),
    )

    app.get(
      '/v1/ledger/forks',
      {
        schema: {
          summary: 'Fork proofs this node holds: devices refused for signing two halves at one position',
          response: { 200: forksReply, ...errorResponses },
        },
      },
      async () => ({ forks: ledger.forks() }),
    )

    app.get(
      '/v1/reputation',
      {
        schema: {
          summary: 'The reputation of every peer with contribution either way, as this node sees it',
          response: { 200: reputationList, ...errorResponses },
        },
      },
      async () => ({ peers: ledger.reputations() }),
    )

    app.get<{ Params: TargetParams; Querystring: ReputationQuery }>(
      '/v1/reputation/:target',
      {
        schema: {
          summary:
            "This node's view of a peer's contribution (two-hop flow over the receipts it has seen), with the paths it comes from on request",
          params: targetParams,
          querystring: reputationQuery,
          response: { 200: Type.Ref(reputationView), ...errorResponses },
        },
      },
      async (req) => ledger.reputation(req.params.target, { explain: req.query.explain === 'true' }),
    )
  },
}
