/**
 * fast-check arbitraries shared by the property tests of wire decoders: bytes derived from a
 * valid encoding by the edits a hostile or broken peer makes (bit flips, truncation, extension,
 * insertion, deletion, and length headers that lie), and a stream cut into random chunks.
 */
import fc from 'fast-check'

/** One edit, with positions as naturals taken modulo the length when applied. */
export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'extend'; bytes: Uint8Array }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'lie'; at: number; header: Uint8Array }

/**
 * CBOR headers that claim huge lengths or counts (byte string, text, array, map, with 4- and
 * 8-byte arguments), and varints claiming 4 GiB and more, dropped over the bytes at a position.
 */
const LYING_HEADERS: Uint8Array[] = [
  [0x5a, 0xff, 0xff, 0xff, 0xff],
  [0x5b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00],
  [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x7a, 0x7f, 0xff, 0xff, 0xff],
  [0x9a, 0xff, 0xff, 0xff, 0xff],
  [0x9b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00],
  [0xba, 0xff, 0xff, 0xff, 0xff],
  [0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0x80, 0x80, 0x80, 0x80, 0x10],
  [0xff, 0xff, 0xff, 0xff, 0x7f],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
].map((h) => Uint8Array.from(h))

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('lie' as const), at: fc.nat(), header: fc.constantFrom(...LYING_HEADERS) }),
)

export function applyMutation(bytes: Uint8Array, m: Mutation): Uint8Array {
  const n = bytes.length
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return bytes
      const out = Uint8Array.from(bytes)
      out[m.at % n] = (out[m.at % n] as number) ^ (1 << m.bit)
      return out
    }
    case 'truncate':
      return bytes.subarray(0, n === 0 ? 0 : m.at % n)
    case 'extend':
      return concat([bytes, m.bytes])
    case 'insert': {
      const at = m.at % (n + 1)
      return concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)])
    }
    case 'delete': {
      const at = m.at % (n + 1)
      return concat([bytes.subarray(0, at), bytes.subarray(at + m.count)])
    }
    case 'set': {
      if (n === 0) return bytes
      const out = Uint8Array.from(bytes)
      out[m.at % n] = m.value
      return out
    }
    case 'lie': {
      const at = m.at % (n + 1)
      return concat([bytes.subarray(0, at), m.header, bytes.subarray(at + m.header.length)])
    }
  }
}

/** Bytes from `valid` with one to three edits applied. */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([bytes, edits]) => edits.reduce(applyMutation, bytes))
}

/** `bytes` cut at random points into chunks (some may be empty), as a stream delivers them. */
export function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let from = 0
  for (const p of points) {
    chunks.push(bytes.subarray(from, p))
    from = p
  }
  chunks.push(bytes.subarray(from))
  return chunks
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** DAG-CBOR values of any shape (bigints included), for payload fields that are not what a schema says. */
export function anyCborValue(maxString = 40): fc.Arbitrary<unknown> {
  return fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string({ maxLength: maxString }),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 3 }),
    ),
  })).value
}
