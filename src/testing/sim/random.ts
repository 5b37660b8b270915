/** Seeded randomness for simulations: the same seed gives the same script, keys and links. */
import { createHash } from 'node:crypto'

/** mulberry32: a small, fast 32-bit generator; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A uniform number in [0, 1) fixed by its labels (order of calls does not matter). */
export function hashUnit(...labels: Array<string | number>): number {
  const h = createHash('sha256').update(labels.join('\u0000')).digest()
  return h.readUInt32BE(0) / 4294967296
}

/** 32 bytes fixed by the labels (device key seeds). */
export function hashBytes(...labels: Array<string | number>): Uint8Array {
  return new Uint8Array(createHash('sha256').update(labels.join('\u0000')).digest())
}

/** `k` distinct items of `items`, chosen with `random`. */
export function sample<T>(items: readonly T[], k: number, random: () => number): T[] {
  const copy = [...items]
  const n = Math.min(k, copy.length)
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (copy.length - i))
    ;[copy[i], copy[j]] = [copy[j] as T, copy[i] as T]
  }
  return copy.slice(0, n)
}
