/** Test helpers around a node's blocks server: content to serve, and a server with chosen limits. */
import { randomBytes } from 'node:crypto'
import type { CID } from 'multiformats/cid'
import { BLOCKS_PROTOCOL } from '../../src/content/blocks-message.ts'
import { BlocksServer, type ServerInit } from '../../src/content/swarm-server.ts'
import { ByteRate, Slots } from '../../src/content/throttle.ts'
import { silentLogger } from '../../src/core/logger.ts'
import type { LateralNode } from '../../src/node/node.ts'

export const CHUNK = 256 * 1024

/** Add `size` random bytes as one file of CHUNK-sized leaves; also every CID the node now stores. */
export async function addRandom(node: LateralNode, size: number): Promise<{ cid: string; bytes: Buffer; cids: CID[] }> {
  const bytes = randomBytes(size)
  const { cid } = await node.content.add([{ path: 'f.bin', size, content: [bytes] }], { chunker: `size-${CHUNK}` })
  const cids: CID[] = []
  for await (const c of node.content.blockstore.cids()) cids.push(c)
  return { cid, bytes, cids }
}

/** Replace the node's blocks server by one with these limits (8 upload slots, `uploadLimit` B/s). */
export async function serveWith(node: LateralNode, init: ServerInit, uploadLimit = 0): Promise<BlocksServer> {
  const server = new BlocksServer(
    {
      net: node.net,
      blocks: node.content.blockstore,
      slots: new Slots(8),
      uploadRate: new ByteRate(uploadLimit),
      isBanned: () => false,
      log: silentLogger.forComponent('test'),
    },
    init,
  )
  await node.net.unhandle(BLOCKS_PROTOCOL)
  await node.net.handle(BLOCKS_PROTOCOL, (stream) => server.serve(stream), server.handleOptions())
  return server
}
