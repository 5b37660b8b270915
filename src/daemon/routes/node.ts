/** Routes of the node itself: identity, status, peers, connect, disconnect, ping, bandwidth. */
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsync } from 'fastify'
import { AGENT_VERSION } from '../../core/constants.ts'
import { BandwidthHistory } from '../bandwidth.ts'
import { type DoctorReply, doctorReply } from '../doctor-schema.ts'
import {
  type BandwidthReply,
  bandwidthReply,
  type ConnectBody,
  connectBody,
  type DisconnectBody,
  type DisconnectReply,
  disconnectBody,
  disconnectReply,
  errorResponses,
  healthReply,
  type IdReply,
  idReply,
  type PeerConnectionView,
  type PeersReply,
  type PingBody,
  type PingReply,
  peerConnection,
  peersReply,
  pingBody,
  pingReply,
  type StatusReply,
  statusReply,
} from '../schemas.ts'
import type { RouteContext } from '../service-api.ts'

export const nodeRoutes: FastifyPluginAsync<RouteContext> = async (app, { node }) => {
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
    async (): Promise<IdReply> => ({
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
    async (): Promise<StatusReply> => node.status(),
  )

  app.get(
    '/v1/doctor',
    {
      schema: {
        summary: 'Reachability diagnosis: NAT type, observed addresses, AutoNAT verdicts, UPnP, relays, advice',
        response: { 200: doctorReply, ...errorResponses },
      },
    },
    async (): Promise<DoctorReply> => node.net.diagnose(),
  )

  app.get(
    '/v1/peers',
    {
      schema: { summary: 'Connected peers', response: { 200: peersReply, ...errorResponses } },
    },
    async (): Promise<PeersReply> => ({ peers: await node.net.connections() }),
  )

  app.post<{ Body: ConnectBody }>(
    '/v1/peers/connect',
    {
      schema: {
        summary: 'Dial a peer by multiaddr or peer ID',
        body: connectBody,
        response: { 200: Type.Ref(peerConnection), ...errorResponses },
      },
    },
    async (req): Promise<PeerConnectionView> => node.net.connect(req.body.address),
  )

  app.post<{ Body: DisconnectBody }>(
    '/v1/peers/disconnect',
    {
      schema: {
        summary:
          'Hang up on a peer: it is told goodbye first, then refused both ways for connections.hangUpHoldMs unless connected to again',
        body: disconnectBody,
        response: { 200: disconnectReply, ...errorResponses },
      },
    },
    async (req): Promise<DisconnectReply> => {
      const { peerId, connections, refusedUntil } = await node.net.disconnect(req.body.peer)
      return { peerId, connections, ...(refusedUntil === undefined ? {} : { refusedUntil }) }
    },
  )

  app.post<{ Body: PingBody }>(
    '/v1/ping',
    {
      schema: {
        summary: 'Round-trip times to a peer',
        body: pingBody,
        response: { 200: pingReply, ...errorResponses },
      },
    },
    async (req): Promise<PingReply> => {
      const rttsMs: number[] = []
      for (let i = 0; i < (req.body.count ?? 1); i++) rttsMs.push(await node.net.ping(req.body.peer))
      return { peer: req.body.peer, rttsMs }
    },
  )

  const bandwidth = new BandwidthHistory(() => node.net.traffic(), { size: node.config.daemon.bandwidthSamples })
  bandwidth.start()
  app.addHook('onClose', async () => bandwidth.stop())
  app.get(
    '/v1/bandwidth',
    {
      schema: {
        summary:
          'Bytes per second in and out, one sample a second for the last five minutes (empty when metrics are off)',
        response: { 200: bandwidthReply, ...errorResponses },
      },
    },
    async (): Promise<BandwidthReply> => ({ intervalMs: bandwidth.intervalMs, samples: bandwidth.samples() }),
  )
}
