/**
 * Ask the LAN's UPnP gateway, on demand (`lateral doctor`), what it says about itself: its
 * location and its own external address. An external address that is not public means a second
 * NAT beyond the router: a carrier-grade NAT, where no port mapping on the home router helps.
 */
import type { UPnPNATClient } from '@libp2p/upnp-nat'
import type { AbortOptions } from '../core/abort.ts'
import type { ReachabilityReport } from './types.ts'

export async function upnpProbe(client: UPnPNATClient, options: AbortOptions): Promise<ReachabilityReport['upnp']> {
  try {
    for await (const gateway of client.findGateways(options)) {
      const externalAddress = await gateway.externalIp(options)
      return { enabled: true, gateway: `${gateway.host}:${gateway.port}`, externalAddress, mappings: [] }
    }
    return { enabled: true, mappings: [], error: 'no UPnP gateway answered on the LAN' }
  } catch (err) {
    const aborted = options.signal?.aborted === true
    return {
      enabled: true,
      mappings: [],
      error: aborted ? 'no UPnP gateway answered on the LAN in time' : (err as Error).message,
    }
  }
}
