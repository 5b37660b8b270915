/** A stored file's bytes as an HTTP answer: the data route and the dashboard's download links. */
import { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { InvalidInputError } from '../../core/errors.ts'
import type { LateralNode } from '../../node/node.ts'

/** Answer with a stored file's bytes; `filename` offers them as a download. */
export async function sendFileData(
  node: LateralNode,
  cid: string,
  filename: string | undefined,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const info = await node.content.stat(cid)
  if (info.type !== 'file') throw new InvalidInputError(`${cid} is a folder: list it, or get it with an output path`)
  const iterator = node.content.cat(cid)[Symbol.asyncIterator]()
  // Read the first chunk before answering, so a missing block is an error reply, not a cut stream.
  const first = await iterator.next()
  reply.header('content-type', 'application/octet-stream')
  reply.header('content-length', String(info.size))
  if (filename !== undefined)
    reply.header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`)
  return reply.send(
    Readable.from(
      (async function* () {
        try {
          if (first.done !== true) yield first.value
          for (;;) {
            const next = await iterator.next()
            if (next.done === true) return
            yield next.value
          }
        } finally {
          // A client that hangs up ends the read too (it releases the content it protected from gc).
          await iterator.return?.(undefined)
        }
      })(),
    ),
  )
}
