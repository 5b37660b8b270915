/**
 * A plain js-libp2p node (not Lateral's) on the memory transport, for tests that need a peer
 * speaking `/lateral/blocks/1.0.0` by hand: one that asks for blocks and then stops reading.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Stream } from '@libp2p/interface'
import { memory } from '@libp2p/memory'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import type { CID } from 'multiformats/cid'
import { BLOCKS_PROTOCOL, encodeMessage } from '../../src/content/blocks-message.ts'
import { encodeFrame } from '../../src/core/framing.ts'

export interface RawPeer {
  node: Libp2p
  peerId: string
  /**
   * Open a blocks stream to `address`, want every block in `cids`, read `readFirst` bytes, then
   * pause: the stream's receive window is never reopened, as by a peer that stops reading.
   */
  stalledStream(address: string, cids: CID[], readFirst?: number): Promise<Stream>
  /** The same for any protocol: send `first`, read `readFirst` bytes, then pause. */
  stalled(address: string, protocol: string, first: Uint8Array, readFirst?: number): Promise<Stream>
  stop(): Promise<void>
}

export async function createRawPeer(): Promise<RawPeer> {
  const node = await createLibp2p({
    transports: [memory()],
    connectionEncrypters: [noise()],
    // Windows that never grow past the spec's initial 256 KiB: once it stops reading, the seeder
    // can push at most that much to it, and everything else stays with the seeder.
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: 256 * 1024 } })],
  })
  const stalled: RawPeer['stalled'] = async (address, protocol, first, readFirst = 0) => {
    const stream = await node.dialProtocol(multiaddr(address), protocol)
    // Whatever the other side manages to send lands here: this peer's memory, not the sender's.
    stream.maxReadBufferLength = Number.POSITIVE_INFINITY
    // Sent before pausing: the first frame carries the stream's opening flags.
    stream.send(first)
    if (readFirst === 0) stream.pause()
    else {
      let read = 0
      for await (const chunk of stream) {
        read += chunk.byteLength
        if (read >= readFirst) {
          stream.pause()
          break
        }
      }
    }
    return stream
  }
  return {
    node,
    peerId: node.peerId.toString(),
    stalled,
    async stalledStream(address, cids, readFirst = 0) {
      const want = encodeFrame(encodeMessage({ t: 'want', wants: cids.map((cid) => ({ cid, kind: 0 as const })) }))
      return stalled(address, BLOCKS_PROTOCOL, want, readFirst)
    },
    async stop() {
      await node.stop()
    },
  }
}

/** Resolves when the stream is reset or aborted (by either side), with its final status. */
export function whenReset(stream: Stream): Promise<string> {
  if (stream.status === 'reset' || stream.status === 'aborted') return Promise.resolve(stream.status)
  return new Promise((resolve) => {
    stream.addEventListener('close', () => resolve(stream.status), { once: true })
  })
}
