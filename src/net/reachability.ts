/**
 * How others can reach this node, and how that was learned. `public` needs an address that an
 * outside peer confirmed by dialling it back (AutoNAT v2) or that the router mapped for us
 * (UPnP) and AutoNAT then confirmed; `relayed` means a relay holds a reservation for us;
 * `private` is everything else (LAN, loopback, behind a NAT with no relay yet). The NAT kind
 * comes from what peers saw of our connections (observed.ts) and the UPnP gateway.
 */
import { isIPv4, isIPv6 } from 'node:net'
import type { AddressWithMetadata } from './internals.ts'
import { natMapping, type Observation } from './observed.ts'
import { RelayPicker } from './relay-picker.ts'
import type { NatKind, Reachability, ReachabilityReport } from './types.ts'

/** The verdict from address strings alone (no outside peer consulted): kept for callers without a node. */
export function reachability(addresses: string[]): Reachability {
  let relayed = false
  for (const address of addresses) {
    if (address.includes('/p2p-circuit')) {
      relayed = true
      continue
    }
    const host = /^\/(?:ip4|ip6)\/([^/]+)/.exec(address)?.[1]
    if (host !== undefined && isPublicIp(host)) return 'public'
  }
  return relayed ? 'relayed' : 'private'
}

export function hasConfirmedPublicAddress(addresses: AddressWithMetadata[]): boolean {
  return addresses.some((a) => a.verified && isPublicAddress(a.multiaddr.toString()))
}

/** An address of ours that others could reach, as libp2p judges it (its `verified` flag means nothing for the rest). */
function isPublicAddress(address: string): boolean {
  if (address.includes('/p2p-circuit')) return false
  const host = /^\/(?:ip4|ip6)\/([^/]+)/.exec(address)?.[1]
  return host !== undefined && isPublicIp(host) && !isSpecialIpv4(host)
}

/**
 * The special and documentation IPv4 ranges that libp2p also treats as private (@libp2p/utils
 * private-ip): it marks our listen addresses there as verified, which must not read as "dialled
 * back by peers" (seen with `lateral doctor` on a host whose address is 192.0.2.2).
 */
export function isSpecialIpv4(host: string): boolean {
  if (!isIPv4(host)) return false
  const [a = 0, b = 0, c = 0] = host.split('.').map(Number)
  if (a === 198 && (b === 18 || b === 19)) return true // benchmarking, 198.18/15
  if (a === 198 && b === 51 && c === 100) return true // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return true // TEST-NET-3
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return true // IETF protocol assignments, TEST-NET-1
  // AS112, AMT, 6to4 relay anycast, direct-delegation AS112
  return (
    a === 192 &&
    ((b === 31 && c === 196) || (b === 52 && c === 193) || (b === 88 && c === 99) || (b === 175 && c === 48))
  )
}

export interface ReachabilityInputs {
  addresses: AddressWithMetadata[]
  announced: string[]
  observed: Observation[]
  upnp: ReachabilityReport['upnp']
  relayServer: ReachabilityReport['relayServer']
  punch: ReachabilityReport['punch']
}

const SOURCE: Record<AddressWithMetadata['type'], ReachabilityReport['addresses'][number]['source']> = {
  transport: 'listen',
  observed: 'observed',
  'ip-mapping': 'upnp',
  'dns-mapping': 'announce',
  announce: 'announce',
}

export function reachabilityReport(inputs: ReachabilityInputs): ReachabilityReport {
  const addresses = inputs.addresses.map((a) => {
    const address = a.multiaddr.toString()
    return {
      address,
      source: address.includes('/p2p-circuit') ? ('relay' as const) : SOURCE[a.type],
      verified: a.verified,
      ...(a.lastVerified === undefined || a.lastVerified === 0 ? {} : { lastVerified: a.lastVerified }),
    }
  })
  const confirmed = addresses.filter((a) => a.verified && isPublicAddress(a.address))
  const unconfirmed = addresses.filter((a) => !a.verified && isPublicAddress(a.address))
  const relays = RelayPicker.relaysOf(inputs.announced)
  const reasons: string[] = []
  let verdict: Reachability
  if (confirmed.length > 0) {
    verdict = 'public'
    for (const a of confirmed) {
      reasons.push(
        a.source === 'upnp'
          ? `${a.address} is mapped on the router by UPnP and confirmed reachable`
          : a.source === 'announce'
            ? `${a.address} is announced by configuration`
            : `${a.address} was dialled back by peers in other networks (AutoNAT)`,
      )
    }
  } else if (relays.length > 0) {
    verdict = 'relayed'
    reasons.push(`no address of ours is confirmed reachable; ${relays.length} relay(s) hold a reservation for us`)
  } else {
    verdict = 'private'
    reasons.push(
      unconfirmed.length > 0
        ? `${unconfirmed.map((a) => a.address).join(', ')} not (yet) confirmed by AutoNAT dial-backs`
        : 'no public address: only loopback, LAN or NAT-internal addresses',
    )
    reasons.push('no relay reservation')
  }
  for (const o of inputs.observed.slice(0, 1)) reasons.push(`a peer sees us at ${o.address}`)

  const nat = natKind(verdict, confirmed, inputs)
  return {
    reachability: verdict,
    reasons,
    nat,
    addresses,
    observed: inputs.observed.map((o) => ({
      address: o.address,
      by: o.by,
      ...(o.localPort === undefined ? {} : { localPort: o.localPort }),
    })),
    upnp: inputs.upnp,
    relays,
    relayServer: inputs.relayServer,
    punch: inputs.punch,
    advice: advice(verdict, nat.kind, inputs, relays.length),
  }
}

function natKind(
  verdict: Reachability,
  confirmed: Array<{ source: string }>,
  inputs: ReachabilityInputs,
): ReachabilityReport['nat'] {
  const { mapping, reasons } = natMapping(inputs.observed)
  const ext = inputs.upnp.externalAddress
  let kind: NatKind = 'unknown'
  if (ext !== undefined && !isPublicIp(ext)) {
    kind = 'carrier'
    reasons.push(
      ext === ''
        ? 'the UPnP router has no public external address: a second NAT (carrier-grade) is beyond it'
        : `the UPnP router's own external address ${ext} is not public: a second NAT (carrier-grade) is beyond it`,
    )
  } else if (mapping === 'none' || (verdict === 'public' && confirmed.every((a) => a.source === 'listen'))) {
    kind = 'none'
  } else if (mapping === 'port-changing') {
    kind = 'hard'
  } else if (mapping === 'port-preserving') {
    kind = 'home'
  }
  return { kind, mapping, reasons }
}

function advice(verdict: Reachability, kind: NatKind, inputs: ReachabilityInputs, relays: number): string[] {
  const out: string[] = []
  if (verdict === 'public') {
    if (!inputs.relayServer.enabled)
      out.push('reachable: you could help others by serving as a relay (`--relay-server`)')
    return out
  }
  if (relays === 0) {
    out.push(
      'no relay reservation: add a bootstrap peer that serves as a relay, or run one (`lateral daemon --relay-server`) on a public host',
    )
  }
  if (kind === 'home' && inputs.upnp.mappings.length === 0) {
    out.push('behind a home NAT: turn on UPnP on the router (or forward the listen port) to be reachable directly')
  }
  if (kind === 'hard') {
    out.push(
      'behind a NAT that changes ports per connection: direct connections need the other side to be reachable; otherwise traffic goes through a relay',
    )
  }
  if (kind === 'carrier') {
    out.push(
      'behind a carrier-grade NAT: port mapping cannot help; ask the provider for a public IPv4 or IPv6, or rely on relays',
    )
  }
  if (inputs.upnp.error !== undefined) out.push(`UPnP: ${inputs.upnp.error}`)
  return out
}

export function isPublicIp(host: string): boolean {
  if (isIPv4(host)) {
    const [a = 0, b = 0] = host.split('.').map(Number)
    if (a === 0 || a === 10 || a === 127 || a >= 224) return false
    if (a === 169 && b === 254) return false
    if (a === 172 && b >= 16 && b <= 31) return false
    if (a === 192 && b === 168) return false
    if (a === 100 && b >= 64 && b <= 127) return false // carrier-grade NAT
    return true
  }
  if (isIPv6(host)) {
    const h = host.toLowerCase()
    if (h === '::' || h === '::1') return false
    if (h.startsWith('fe8') || h.startsWith('fe9') || h.startsWith('fea') || h.startsWith('feb')) return false
    if (h.startsWith('fc') || h.startsWith('fd')) return false
    if (h.startsWith('::ffff:')) return isPublicIp(h.slice(7))
    return true
  }
  return false
}
