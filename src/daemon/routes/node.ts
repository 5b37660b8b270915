/** Routes of the node itself: identity, status, peers, connect, ping. */
import type { FastifyInstance } from 'fastify'
import { AGENT_VERSION } from '../../core/constants.ts'
import type { LateralNode } from '../../node/node.ts'
import {
  connectBody,
  errorResponses,
  healthReply,
  idReply,
  peersReply,
  pingBody,
  pingReply,
  statusReply,
} from '../schemas.ts'

export function registerNodeRoutes(app: FastifyInstance, node: LateralNode): void {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: { summary: 'Liveness check (no token needed)', security: [], response: { 200: healthReply } },
    },
    async () => ({ ok: true, peerId: node.peerId }),
  )

  app.get(
    '/v1/id',
    {
      schema: { summary: 'Peer ID, listen addresses, agent version', response: { 200: idReply, ...errorResponses } },
    },
    async () => ({
      peerId: node.peerId,
      addresses: node.net.addresses(),
      agentVersion: AGENT_VERSION,
      protocols: node.net.protocols(),
    }),
  )

  app.get(
    '/v1/status',
    {
      schema: {
        summary: 'Uptime, connections, DHT mode and routing-table size, data dir',
        response: { 200: statusReply, ...errorResponses },
      },
    },
    async () => node.status(),
  )

  app.get(
    '/v1/peers',
    {
      schema: { summary: 'Connected peers', response: { 200: peersReply, ...errorResponses } },
    },
    async () => ({ peers: await node.net.connections() }),
  )

  app.post<{ Body: { address: string } }>(
    '/v1/peers/connect',
    {
      schema: {
        summary: 'Dial a peer by multiaddr or peer ID',
        body: connectBody,
        response: { 200: { $ref: 'PeerConnection#' }, ...errorResponses },
      },
    },
    async (req) => node.net.connect(req.body.address),
  )

  app.post<{ Body: { peer: string; count?: number } }>(
    '/v1/ping',
    {
      schema: {
        summary: 'Round-trip times to a peer',
        body: pingBody,
        response: { 200: pingReply, ...errorResponses },
      },
    },
    async (req) => {
      const rttsMs: number[] = []
      for (let i = 0; i < (req.body.count ?? 1); i++) rttsMs.push(await node.net.ping(req.body.peer))
      return { peer: req.body.peer, rttsMs }
    },
  )
}
