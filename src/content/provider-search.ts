/**
 * Where a download session finds its peers: the connected peers first (asked directly, no
 * lookup), then the DHT's provider records for the root, asked again every interval while the
 * session runs (providers appear as others finish their own downloads).
 */
import type { CID } from 'multiformats/cid'
import { sleep } from '../core/abort.ts'
import { errorFields, type Logger } from '../core/logger.ts'
import type { Net } from '../net/types.ts'

export interface ProviderSearchComponents {
  net: Net
  log: Logger
}

/**
 * Offer every candidate peer to `join` until `signal` aborts. `dial` is true for peers named by
 * the DHT (they may not be connected yet).
 */
export function searchProviders(
  c: ProviderSearchComponents,
  root: CID,
  intervalMs: number,
  join: (peerId: string, dial: boolean) => void,
  signal: AbortSignal,
): void {
  void (async () => {
    const connected = await c.net.connections().catch(() => [])
    for (const peer of connected) join(peer.peerId, false)
    while (!signal.aborted) {
      try {
        const search = AbortSignal.any([signal, AbortSignal.timeout(intervalMs)])
        for await (const provider of c.net.findProviders(root.toString(), { signal: search })) {
          join(provider.peerId, true)
        }
      } catch (err) {
        c.log.debug('provider search failed', { cid: root.toString(), ...errorFields(err) })
      }
      await sleep(intervalMs, signal).catch(() => {})
    }
  })()
}
