/** A provider that lies (swarm tests): it says it has every block asked about, and `reply` decides what it sends for each want. */
import type { CID } from 'multiformats/cid'
import { BLOCKS_PROTOCOL, decodeMessage, encodeMessage, MAX_FRAME_BYTES } from '../../src/content/blocks-message.ts'
import { encodeFrame, readFrames } from '../../src/core/framing.ts'
import type { LateralNode } from '../../src/node/node.ts'

/** Make `node` a lying provider: says it has everything; `reply` gives the frame it sends for a wanted block. */
export async function impersonate(node: LateralNode, reply: (cid: CID) => Uint8Array): Promise<void> {
  await node.net.unhandle(BLOCKS_PROTOCOL)
  await node.net.handle(BLOCKS_PROTOCOL, async (stream) => {
    try {
      for await (const frame of readFrames(stream, MAX_FRAME_BYTES)) {
        const m = decodeMessage(frame)
        if (m.t !== 'want') continue
        const haves = m.wants.filter((w) => w.kind === 1).map((w) => w.cid)
        if (haves.length > 0) await stream.write(encodeFrame(encodeMessage({ t: 'have', cids: haves })))
        for (const w of m.wants.filter((x) => x.kind === 0)) await stream.write(encodeFrame(reply(w.cid)))
      }
    } catch {
      // The downloader hung up on us: expected.
    }
  })
}
