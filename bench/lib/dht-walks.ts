/**
 * What the DHT benchmarks (sim-dht.ts over the whole network layer, sim-dht-proto.ts over the
 * protocol-level fabric) do per lookup, written once: a walk under a deadline, and one provider
 * lookup with its hops and latency.
 */
import type { Net } from '../../src/net/types.ts'
import { QueryTrace } from '../../src/testing/sim/index.ts'

/** A walk bounded by a deadline; resolves whatever it returns (a throw counts as nothing found). */
export async function withDeadline<T>(ms: number, f: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
  try {
    return await f(AbortSignal.timeout(ms))
  } catch {
    return undefined
  }
}

export interface ProviderAnswer {
  found: boolean
  /** When found: ms from the start of the lookup, and the hop that named the provider. */
  ms?: number
  hops?: number
}

/** Does a `findProviders` walk from `asker` name `provider` for `cid` within `timeoutMs`? */
export async function askForProvider(
  asker: Pick<Net, 'findProviders'>,
  cid: string,
  provider: string,
  timeoutMs: number,
): Promise<ProviderAnswer> {
  const trace = new QueryTrace()
  const started = performance.now()
  let found = false
  await withDeadline(timeoutMs, async (signal) => {
    for await (const p of asker.findProviders(cid, { signal, onQuery: trace.onQuery })) {
      if (p.peerId === provider) {
        found = true
        break
      }
    }
  })
  return found ? { found, ms: performance.now() - started, hops: trace.providerHops ?? 0 } : { found }
}

/** Adds one trace's failures by error name into `into`. */
export function addErrors(into: Record<string, number>, trace: QueryTrace): void {
  for (const [name, count] of Object.entries(trace.errors)) into[name] = (into[name] ?? 0) + count
}

/** A `findPeer` walk (never from the cache) from `from` to `peerId`: found, when, at which hop. */
export async function findPeerWalk(
  from: Pick<Net, 'findPeer'>,
  peerId: string,
  timeoutMs: number,
): Promise<{ found: boolean; ms: number; hops: number; trace: QueryTrace }> {
  const trace = new QueryTrace()
  const started = performance.now()
  const addrs = await withDeadline(timeoutMs, (signal) =>
    from.findPeer(peerId, { signal, useCache: false, onQuery: trace.onQuery }),
  )
  const found = addrs !== undefined && addrs.length > 0
  return { found, ms: performance.now() - started, hops: trace.targetHops ?? 0, trace }
}

/** A `closestPeers` walk for `key`: the peers it returned (none if cut by the deadline) and how long it took. */
export async function closestWalk(
  from: Pick<Net, 'closestPeers'>,
  key: Uint8Array,
  timeoutMs: number,
): Promise<{ peers: string[]; ms: number; trace: QueryTrace }> {
  const trace = new QueryTrace()
  const peers: string[] = []
  const started = performance.now()
  await withDeadline(timeoutMs, async (signal) => {
    for await (const p of from.closestPeers(key, { signal, onQuery: trace.onQuery })) peers.push(p)
  })
  return { peers, ms: performance.now() - started, trace }
}
