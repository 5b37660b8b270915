/**
 * Routes of the storage service (a Fastify plugin): put, check and drop a copy on a keeper, and
 * list what is kept where. `on` is a peer ID, an identity ID or a contact name, resolved here.
 */
import { errorResponses } from '../../daemon/schemas.ts'
import type { RouteContext, ServiceApi } from '../../daemon/service-api.ts'
import {
  type CheckReply,
  checkReply,
  type DropReply,
  dropReply,
  type ListQuery,
  type ListReply,
  listQuery,
  listReply,
  type PutReply,
  putReply,
  type StoreBody,
  storageSchemas,
  storeBody,
} from './schemas.ts'

export const storageApi: ServiceApi = {
  schemas: storageSchemas,
  routes: async (app, { node }: RouteContext) => {
    const storage = node.storage

    /** A peer ID or an identity ID, from what the person typed. */
    const resolve = async (on: string): Promise<string> => {
      const target = await node.identity.contacts.resolve(on)
      return target.identity ?? target.peerId ?? on
    }

    /** Names for an identity or a peer's identity: its contact name when this node has one. */
    const namer = async () => {
      const contacts = await node.identity.contacts.list()
      const contactOf = (identity: string | undefined) => contacts.find((c) => c.identity === identity)?.name
      return {
        ofIdentity: (identity: string) => {
          const contact = contactOf(identity)
          return contact === undefined ? {} : { contact }
        },
        ofPeer: (peer: string) => {
          const identity = node.identity.identityOf(peer)
          if (identity === undefined) return {}
          const contact = contactOf(identity)
          return { identity, ...(contact === undefined ? {} : { contact }) }
        },
      }
    }

    app.post<{ Body: StoreBody }>(
      '/v1/storage/put',
      {
        schema: {
          summary:
            'Ask a keeper (a peer, or each device of a person that holds a /store/put grant) to keep content this node has; answers once kept (the keeper fetches it first)',
          body: storeBody,
          response: { 200: putReply, ...errorResponses },
        },
      },
      async (req): Promise<PutReply> => {
        const keepers = await storage.put(req.body.cid, await resolve(req.body.on))
        return { cid: req.body.cid, on: req.body.on, keepers }
      },
    )

    app.post<{ Body: StoreBody }>(
      '/v1/storage/check',
      {
        schema: {
          summary: 'A storage challenge now, on each keeper of the content that `on` names; each answer is recorded',
          body: storeBody,
          response: { 200: checkReply, ...errorResponses },
        },
      },
      async (req): Promise<CheckReply> => ({ checks: await storage.check(req.body.cid, await resolve(req.body.on)) }),
    )

    app.post<{ Body: StoreBody }>(
      '/v1/storage/drop',
      {
        schema: {
          summary: 'Ask the keeper(s) to drop their copy, and forget it here',
          body: storeBody,
          response: { 200: dropReply, ...errorResponses },
        },
      },
      async (req): Promise<DropReply> => ({
        cid: req.body.cid,
        dropped: await storage.drop(req.body.cid, await resolve(req.body.on)),
      }),
    )

    app.get<{ Querystring: ListQuery }>(
      '/v1/storage',
      {
        schema: {
          summary:
            'What keepers keep for this identity (with when each copy was last proven), and what this node keeps for others',
          querystring: listQuery,
          response: { 200: listReply, ...errorResponses },
        },
      },
      async (req): Promise<ListReply> => {
        const on = req.query.on === undefined ? undefined : await resolve(req.query.on)
        const names = await namer()
        return {
          placed: storage.placed(on).map((p) => ({ ...p, ...names.ofPeer(p.peer) })),
          kept: storage.kept().map((c) => ({ ...c, ...names.ofIdentity(c.subject) })),
          keptFor: (await storage.keptFor()).map((u) => ({ ...u, ...names.ofIdentity(u.subject) })),
        }
      },
    )
  },
}
