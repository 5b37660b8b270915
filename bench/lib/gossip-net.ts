/**
 * Shared by `bench gossip`: wire N Lateral nodes into a sparse random graph, join a topic, and
 * record when each node receives each numbered message.
 */
import type { LateralNode } from '../../src/node/node.ts'
import { waitFor } from '../../src/testing/wait.ts'

export const TOPIC = 'bench'

/** Wall-clock ms with sub-ms precision, comparable across processes on one machine. */
export const now = (): number => performance.timeOrigin + performance.now()

/** A ring plus `chords` random links per node: connected, sparse, no node knows everyone. */
export function sparseEdges(n: number, chords: number, seed = 1): Array<[number, number]> {
  let s = seed
  const rand = () => {
    s = (s * 1103515245 + 12345) % 2147483648
    return s / 2147483648
  }
  const edges = new Set<string>()
  for (let i = 0; i < n; i++) edges.add(`${i},${(i + 1) % n}`)
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < chords; c++) {
      const j = Math.floor(rand() * n)
      if (j !== i) edges.add(i < j ? `${i},${j}` : `${j},${i}`)
    }
  }
  return [...edges].map((e) => e.split(',').map(Number) as [number, number])
}

/** Receive-time recorder: message index -> receive times, per node. */
export function record(node: LateralNode, sink: (index: number, at: number) => void): void {
  node.messaging.addEventListener('topic:message', (evt) => {
    const at = now()
    const view = new DataView(evt.detail.body.buffer, evt.detail.body.byteOffset, evt.detail.body.byteLength)
    sink(view.getUint32(0), at)
  })
}

export function payload(index: number, size: number): Uint8Array {
  const body = new Uint8Array(Math.max(4, size))
  new DataView(body.buffer).setUint32(0, index)
  return body
}

export async function waitForMeshes(nodes: LateralNode[], minMesh: number, timeoutMs = 60_000): Promise<void> {
  const { wireTopic } = await import('../../src/messaging/topics.ts')
  await waitFor(() => nodes.every((n) => n.net.pubsub.meshPeers(wireTopic(TOPIC)).length >= minMesh), {
    what: 'gossipsub meshes',
    timeoutMs,
    intervalMs: 100,
  })
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number
}
