/** One request and its answer on a fresh `/lateral/ledger/1.0.0` stream. */
import { LEDGER_FRAME_MAX_BYTES } from '../core/constants.ts'
import { InvalidInputError, PeerUnreachableError } from '../core/errors.ts'
import { encodeFrame, readFrames } from '../core/framing.ts'
import type { Net, ProtocolStream } from '../net/index.ts'
import { decodeAnswer, encodeMessage, LEDGER_PROTOCOL, type LedgerAnswer, type LedgerRequest } from './wire.ts'

export async function ask(
  net: Pick<Net, 'openStream'>,
  peer: string,
  request: LedgerRequest,
  signal: AbortSignal,
): Promise<LedgerAnswer> {
  let stream: ProtocolStream
  try {
    stream = await net.openStream(peer, LEDGER_PROTOCOL, { signal })
  } catch (err) {
    throw new PeerUnreachableError(`cannot reach ${peer}: ${(err as Error).message}`)
  }
  try {
    await stream.write(encodeFrame(encodeMessage(request)), { signal })
    for await (const frame of readFrames(stream, LEDGER_FRAME_MAX_BYTES)) {
      await stream.close({ signal }).catch(() => {})
      return decodeAnswer(frame.subarray())
    }
    throw new InvalidInputError(`${peer} closed the ledger stream without an answer`)
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
    throw err
  }
}
