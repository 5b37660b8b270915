/**
 * The owner's side of one `/lateral/storage/1.0.0` exchange: open a stream to the keeper (dialling
 * it if needed), send the request, read the one answer, within a deadline. A keeper that cannot be
 * reached is a PeerUnreachableError; one that does not answer in time a TimeoutError.
 */
import { AbortedError, InvalidInputError, PeerUnreachableError, TimeoutError } from '../core/errors.ts'
import { encodeFrame, readFrames } from '../core/framing.ts'
import type { Net, ProtocolStream } from '../net/index.ts'
import {
  answerMaxBytes,
  decodeAnswer,
  encodeMessage,
  STORAGE_PROTOCOL,
  type StorageAnswer,
  type StorageOp,
} from './wire.ts'

export async function exchange(
  net: Pick<Net, 'openStream'>,
  peer: string,
  op: StorageOp,
  inv: Uint8Array,
  options: { timeoutMs: number; proofMaxBytes: number; signal?: AbortSignal },
): Promise<StorageAnswer> {
  const timeout = AbortSignal.timeout(options.timeoutMs)
  const deadline = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal])
  let stream: ProtocolStream
  try {
    stream = await net.openStream(peer, STORAGE_PROTOCOL, { signal: deadline })
  } catch (err) {
    throw new PeerUnreachableError(`keeper ${peer} could not be reached: ${(err as Error).message}`)
  }
  const late = () => stream.abort(new TimeoutError(`keeper ${peer} did not answer within ${options.timeoutMs} ms`))
  deadline.addEventListener('abort', late, { once: true })
  try {
    await stream.write(encodeFrame(encodeMessage({ op, inv })), { signal: deadline })
    const first = await readFrames(stream, answerMaxBytes(op, options.proofMaxBytes))[Symbol.asyncIterator]().next()
    if (first.done === true) throw new InvalidInputError(`keeper ${peer} closed the stream without an answer`)
    await stream.close({ signal: deadline }).catch(() => {})
    return decodeAnswer(first.value.subarray(), answerMaxBytes(op, options.proofMaxBytes))
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    if (options.signal?.aborted === true) throw new AbortedError('the node is stopping')
    if (deadline.aborted) throw new TimeoutError(`keeper ${peer} did not answer within ${options.timeoutMs} ms`)
    throw err
  } finally {
    deadline.removeEventListener('abort', late)
  }
}
