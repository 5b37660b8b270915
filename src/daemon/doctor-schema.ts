/** The reply of GET /v1/doctor (`lateral doctor`): the node's reachability with its evidence. */
import { type Static, Type } from '@sinclair/typebox'
import { stringEnum } from '../core/settings.ts'

export const reachabilityVerdict = stringEnum(['public', 'private', 'relayed'], {
  description:
    'public: an address confirmed by AutoNAT dial-backs or a UPnP mapping; relayed: a relay holds a reservation; private: neither',
})

export const natKind = stringEnum(['none', 'home', 'hard', 'carrier', 'unknown'], {
  description:
    'none: no NAT; home: keeps ports (endpoint-independent mapping); hard: changes ports per connection; carrier: a second NAT beyond the router',
})

export const doctorReply = Type.Object(
  {
    reachability: reachabilityVerdict,
    reasons: Type.Array(Type.String()),
    nat: Type.Object({
      kind: natKind,
      mapping: stringEnum(['none', 'port-preserving', 'port-changing', 'unknown']),
      reasons: Type.Array(Type.String()),
    }),
    addresses: Type.Array(
      Type.Object({
        address: Type.String(),
        source: stringEnum(['listen', 'observed', 'upnp', 'relay', 'announce']),
        verified: Type.Boolean(),
        lastVerified: Type.Optional(Type.Number()),
      }),
    ),
    observed: Type.Array(
      Type.Object({ address: Type.String(), by: Type.String(), localPort: Type.Optional(Type.Integer()) }),
    ),
    upnp: Type.Object({
      enabled: Type.Boolean(),
      gateway: Type.Optional(Type.String()),
      externalAddress: Type.Optional(Type.String()),
      mappings: Type.Array(Type.String()),
      error: Type.Optional(Type.String()),
    }),
    relays: Type.Array(Type.Object({ peerId: Type.String(), address: Type.String() })),
    relayServer: Type.Object({ enabled: Type.Boolean(), reservations: Type.Integer() }),
    punch: Type.Object({
      enabled: Type.Boolean(),
      attempted: Type.Integer(),
      succeeded: Type.Integer(),
      failed: Type.Integer(),
      lastError: Type.Optional(Type.String()),
    }),
    advice: Type.Array(Type.String()),
  },
  { $id: 'DoctorReply' },
)
export type DoctorReply = Static<typeof doctorReply>
