/**
 * Watch the byte buffers code allocates while it runs: `new Uint8Array(n)` and `new ArrayBuffer(n)`
 * reached through the global names (as decoders and libraries write them) are recorded, so a
 * property can assert that no input makes a decoder allocate past its bound. Allocations made
 * inside the engine or Node (`Buffer.allocUnsafe`, `slice`) are not seen: this is a spy on the
 * code under test, not a heap profiler.
 */

export interface AllocationRecord {
  /** The largest buffer constructed by length while the spy was on, in bytes. */
  largest: number
}

/** Run `fn` with the spy on; the record is filled as it runs (also across awaits, until it settles). */
export async function spyAllocations<T>(fn: (record: AllocationRecord) => T | Promise<T>): Promise<T> {
  const record: AllocationRecord = { largest: 0 }
  const originals = { Uint8Array: globalThis.Uint8Array, ArrayBuffer: globalThis.ArrayBuffer }
  const watch = <C extends abstract new (...args: never[]) => unknown>(ctor: C): C => {
    const proxy: C = new Proxy(ctor, {
      construct(target, args, newTarget) {
        const [first] = args as unknown[]
        if (typeof first === 'number') record.largest = Math.max(record.largest, first)
        // Subclasses (Buffer and friends) keep their own newTarget; a plain `new` builds the original.
        return Reflect.construct(target, args, newTarget === proxy ? target : newTarget)
      },
    })
    return proxy
  }
  globalThis.Uint8Array = watch(originals.Uint8Array)
  globalThis.ArrayBuffer = watch(originals.ArrayBuffer)
  try {
    return await fn(record)
  } finally {
    globalThis.Uint8Array = originals.Uint8Array
    globalThis.ArrayBuffer = originals.ArrayBuffer
  }
}
