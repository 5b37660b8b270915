/**
 * The two libp2p internals the NAT parts need and libp2p's public `Libp2p` type does not show:
 * the address manager (each address with whether AutoNAT or UPnP confirmed it) and the
 * transport manager (to listen on a relay once one is found, not at start). Both are fields of
 * the node libp2p 3 returns; reached here alone, checked at run time, so an upgrade that moves
 * them fails loudly in one place.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'

export interface AddressWithMetadata {
  multiaddr: Multiaddr
  verified: boolean
  type: 'transport' | 'observed' | 'ip-mapping' | 'dns-mapping' | 'announce'
  lastVerified?: number
}

export interface NodeInternals {
  addressManager: { getAddressesWithMetadata(): AddressWithMetadata[] }
  transportManager: { listen(addrs: Multiaddr[]): Promise<void> }
}

export function internalsOf(node: Libp2p): NodeInternals {
  const components = (node as unknown as { components?: Partial<NodeInternals> }).components
  if (
    typeof components?.addressManager?.getAddressesWithMetadata !== 'function' ||
    typeof components.transportManager?.listen !== 'function'
  ) {
    throw new Error('this libp2p version does not expose the address and transport managers Lateral expects')
  }
  return components as NodeInternals
}
