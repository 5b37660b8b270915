/**
 * Kademlia distances as kad-dht computes them (its utils.ts): a peer's key is SHA-256 of its peer
 * ID's multihash bytes, a lookup key's is SHA-256 of the key; distance is their XOR. Used to
 * compute the true closest peers from the full membership, which no single node knows.
 */
import { createHash } from 'node:crypto'
import { base58btc } from 'multiformats/bases/base58'

export function kadIdOfPeer(peerId: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(base58btc.baseDecode(peerId)).digest())
}

export function kadIdOfKey(key: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(key).digest())
}

/** Negative when `a` is closer to `target` than `b`. */
export function compareDistance(a: Uint8Array, b: Uint8Array, target: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const da = (a[i] as number) ^ (target[i] as number)
    const db = (b[i] as number) ^ (target[i] as number)
    if (da !== db) return da - db
  }
  return 0
}

/** The `k` peers of `peers` closest to the kad ID `target`. */
export function closestTo(
  target: Uint8Array,
  peers: Array<{ peerId: string; kadId: Uint8Array }>,
  k: number,
): string[] {
  return [...peers]
    .sort((a, b) => compareDistance(a.kadId, b.kadId, target))
    .slice(0, k)
    .map((p) => p.peerId)
}
