/**
 * Who has a root, for `lateral providers`: every connected peer asked directly (one want-have)
 * and the DHT's provider records, at the same time, for a bounded time.
 */
import type { CID } from 'multiformats/cid'
import { errorFields, type Logger } from '../core/logger.ts'
import type { Net } from '../net/types.ts'

export interface Provider {
  peerId: string
  /** How it was found: asked directly (connected) and/or named by the DHT. */
  sources: Array<'connected' | 'dht'>
  addresses: string[]
}

export interface ProviderLookupComponents {
  net: Net
  /** Ask one peer whether it has a block; false on any failure. */
  askHave(peerId: string, cid: CID, signal: AbortSignal): Promise<boolean>
  log: Logger
}

export async function lookupProviders(
  c: ProviderLookupComponents,
  root: CID,
  options: { signal?: AbortSignal; timeoutMs: number },
): Promise<Provider[]> {
  const signal = AbortSignal.any([
    ...(options.signal === undefined ? [] : [options.signal]),
    AbortSignal.timeout(options.timeoutMs),
  ])
  const found = new Map<string, Provider>()
  const note = (peerId: string, source: 'connected' | 'dht', addresses: string[]) => {
    const p = found.get(peerId) ?? { peerId, sources: [], addresses: [] }
    if (!p.sources.includes(source)) p.sources.push(source)
    for (const a of addresses) if (!p.addresses.includes(a)) p.addresses.push(a)
    found.set(peerId, p)
  }
  const connected = await c.net.connections()
  const asked = Promise.all(
    connected.map(async (peer) => {
      if (await c.askHave(peer.peerId, root, signal)) note(peer.peerId, 'connected', peer.addresses)
    }),
  )
  const dht = (async () => {
    try {
      for await (const p of c.net.findProviders(root.toString(), { signal })) note(p.peerId, 'dht', p.addresses)
    } catch (err) {
      c.log.debug('DHT provider lookup failed', errorFields(err))
    }
  })()
  await Promise.all([asked, dht])
  options.signal?.throwIfAborted()
  return [...found.values()]
}
