/**
 * How others can reach this node, judged from the addresses it announces: `public` when one
 * is a globally routable IP, `relayed` when it is reachable only through a relay
 * (`/p2p-circuit`), `private` when every address is loopback, LAN or link-local.
 * The judgement is from the addresses alone; no outside peer has confirmed it.
 */
import { isIPv4, isIPv6 } from 'node:net'

export type Reachability = 'public' | 'private' | 'relayed'

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
