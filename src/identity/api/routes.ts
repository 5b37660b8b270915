/** Routes of the identity service: the identity, its devices, pairings and contacts (a Fastify plugin). */
import { Type } from '@sinclair/typebox'
import { errorResponses } from '../../daemon/schemas.ts'
import type { ServiceApi } from '../../daemon/service-api.ts'
import {
  type ConfirmBody,
  type ContactBody,
  type ContactParams,
  confirmBody,
  contact,
  contactBody,
  contactParams,
  contactsReply,
  type DeviceParams,
  deviceParams,
  identityReply,
  identitySchemas,
  type NameBody,
  nameBody,
  type PairingAddBody,
  type PairingParams,
  type PairingStartBody,
  pairing,
  pairingAddBody,
  pairingParams,
  pairingStart,
  type RemoveBody,
  removeBody,
} from './schemas.ts'

const pairingReply = { 200: Type.Ref(pairing), ...errorResponses }

export const identityApi: ServiceApi = {
  schemas: identitySchemas,
  routes: async (app, { node }) => {
    const identity = node.identity

    app.get(
      '/v1/identity',
      {
        schema: {
          summary: 'This node’s identity: ID, display name, devices, log heads',
          response: { 200: identityReply, ...errorResponses },
        },
      },
      async () => identity.view(),
    )

    app.post<{ Body: NameBody }>(
      '/v1/identity/name',
      {
        schema: {
          summary: 'Set the display name others see (a signed log entry)',
          body: nameBody,
          response: { 200: identityReply, ...errorResponses },
        },
      },
      async (req) => identity.setName(req.body.name),
    )

    app.post<{ Body: PairingStartBody }>(
      '/v1/identity/pairings',
      {
        schema: {
          summary: 'On a new device: make a one-time pairing code and wait for a device of the identity to use it',
          body: pairingStart,
          response: pairingReply,
        },
      },
      async (req) => identity.link(req.body ?? {}),
    )

    app.post<{ Body: PairingAddBody }>(
      '/v1/identity/pairings/join',
      {
        schema: {
          summary: 'On a device of the identity: pair with the new device that shows this code',
          body: pairingAddBody,
          response: pairingReply,
        },
      },
      async (req) => identity.add(req.body.code),
    )

    app.get<{ Params: PairingParams }>(
      '/v1/identity/pairings/:id',
      {
        schema: {
          summary: 'A pairing as it is now (follow pairing:update events)',
          params: pairingParams,
          response: pairingReply,
        },
      },
      async (req) => identity.pairing(req.params.id),
    )

    app.post<{ Params: PairingParams; Body: ConfirmBody }>(
      '/v1/identity/pairings/:id/confirm',
      {
        schema: {
          summary: 'Confirm with the string the other device shows (or "yes"); a different string aborts both sides',
          params: pairingParams,
          body: confirmBody,
          response: pairingReply,
        },
      },
      async (req) => identity.confirm(req.params.id, req.body.shortString),
    )

    app.delete<{ Params: PairingParams }>(
      '/v1/identity/pairings/:id',
      {
        schema: {
          summary: 'Refuse or cancel a pairing (both sides abort)',
          params: pairingParams,
          response: pairingReply,
        },
      },
      async (req) => identity.cancel(req.params.id),
    )

    app.post<{ Params: DeviceParams; Body: RemoveBody }>(
      '/v1/identity/devices/:device/remove',
      {
        schema: {
          summary: 'Remove a device (peer ID or name): its signatures are refused from now on; the data key is rotated',
          params: deviceParams,
          body: removeBody,
          response: { 200: identityReply, ...errorResponses },
        },
      },
      async (req) => identity.remove(req.params.device, req.body ?? {}),
    )

    app.get(
      '/v1/contacts',
      { schema: { summary: 'Local names for identities', response: { 200: contactsReply, ...errorResponses } } },
      async () => ({ contacts: await identity.contacts.list() }),
    )

    app.post<{ Body: ContactBody }>(
      '/v1/contacts',
      {
        schema: {
          summary: 'Name an identity (a local name, seen by nobody else)',
          body: contactBody,
          response: { 200: contact, ...errorResponses },
        },
      },
      async (req) => identity.contacts.add(req.body.name, req.body.identity),
    )

    app.delete<{ Params: ContactParams }>(
      '/v1/contacts/:name',
      {
        schema: {
          summary: 'Forget a contact name',
          params: contactParams,
          response: { 200: contact, ...errorResponses },
        },
      },
      async (req) => identity.contacts.remove(req.params.name),
    )
  },
}
