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
  type GuardiansBody,
  guardiansBody,
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
  type RecoverApproveBody,
  type RecoverStartBody,
  type RecoveryParams,
  type RemoveBody,
  recoverApproveBody,
  recoverStartBody,
  recoveryParams,
  recoveryReply,
  recoverySession,
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

    const sessionReply = { 200: Type.Ref(recoverySession), ...errorResponses }

    app.post<{ Body: GuardiansBody }>(
      '/v1/identity/guardians',
      {
        schema: {
          summary:
            'Set the guardians (contacts or identity IDs), the approvals a recovery needs and its delay; the data key is backed up with them',
          body: guardiansBody,
          response: { 200: identityReply, ...errorResponses },
        },
      },
      async (req) =>
        identity.setGuardians(req.body.guardians, {
          threshold: req.body.threshold,
          ...(req.body.delayMs === undefined ? {} : { delayMs: req.body.delayMs }),
        }),
    )

    app.post(
      '/v1/identity/recovery/veto',
      {
        schema: {
          summary: 'Veto the pending recovery of this identity (on a current device, before it is due)',
          response: { 200: identityReply, ...errorResponses },
        },
      },
      async () => identity.veto(),
    )

    app.get(
      '/v1/recovery',
      {
        schema: {
          summary: "Recovery sessions on this node, and the pending recovery of this node's identity",
          response: { 200: recoveryReply, ...errorResponses },
        },
      },
      async () => {
        const recovery = identity.view().recovery
        return { sessions: identity.recoverySessions(), ...(recovery === undefined ? {} : { recovery }) }
      },
    )

    app.post<{ Body: RecoverStartBody }>(
      '/v1/recovery',
      {
        schema: {
          summary:
            'On a fresh device: start recovering an identity; gives the code for its guardians and the short string',
          body: recoverStartBody,
          response: sessionReply,
        },
      },
      async (req) =>
        identity.recoverStart(req.body.identity, req.body.name === undefined ? {} : { name: req.body.name }),
    )

    app.post<{ Body: RecoverApproveBody }>(
      '/v1/recovery/approvals',
      {
        schema: {
          summary: 'On a guardian: fetch the request behind a recovery code, to compare its short string',
          body: recoverApproveBody,
          response: sessionReply,
        },
      },
      async (req) => identity.recoverApprove(req.body.code),
    )

    app.get<{ Params: RecoveryParams }>(
      '/v1/recovery/:id',
      { schema: { summary: 'One recovery session', params: recoveryParams, response: sessionReply } },
      async (req) => identity.recoverySession(req.params.id),
    )

    app.post<{ Params: RecoveryParams; Body: ConfirmBody }>(
      '/v1/recovery/:id/confirm',
      {
        schema: {
          summary:
            'On a guardian: approve with the string the person read out (or "yes"); a different string approves nothing',
          params: recoveryParams,
          body: confirmBody,
          response: sessionReply,
        },
      },
      async (req) => identity.recoverConfirm(req.params.id, req.body.shortString),
    )

    app.get(
      '/v1/contacts',
      { schema: { summary: 'Local names for identities', response: { 200: contactsReply, ...errorResponses } } },
      async () => ({ contacts: await identity.contactViews() }),
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
      async (req) => identity.contactView(await identity.contacts.add(req.body.name, req.body.identity)),
    )

    app.get<{ Params: ContactParams }>(
      '/v1/contacts/:name',
      {
        schema: {
          summary: 'One contact, with what this node knows of them from their signed log (devices, mailboxes)',
          params: contactParams,
          response: { 200: contact, ...errorResponses },
        },
      },
      async (req) => identity.contactView(await identity.contacts.get(req.params.name)),
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
