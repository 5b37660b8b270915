/**
 * Reading what a provider sends a downloader on `/lateral/blocks`, and telling protocol
 * violations apart from a peer that simply stops.
 *
 * Only what breaks the protocol (an oversized or malformed frame, an undecodable message, a
 * message a provider may not send) is a violation, which costs the peer points. A stream that
 * is reset, aborted or closed, even in the middle of a frame, is what honest peers do when they
 * stop, crash or lose their connection: the peer just leaves the session.
 */
import type { CID } from 'multiformats/cid'
import { InvalidInputError } from '../core/errors.ts'
import { BlockFrameReader, type ReceivedBlock, type ReceivedMessage } from './block-frames.ts'

/** What a provider may send a downloader. */
export type ProviderMessage = { t: 'have' | 'dont-have'; cids: CID[] } | ReceivedBlock

/** How a provider's stream ended. */
export type StreamEnd =
  | { kind: 'closed'; reason: string }
  | { kind: 'violation'; error: Error }
  | { kind: 'failed'; error: Error }
  | { kind: 'stopped' }

/**
 * Hand each message to `onMessage` until the stream ends or `onMessage` returns false (the
 * session is done with the peer); resolves with how it ended. Blocks `accept` refuses (not asked
 * for) are skipped unread (block-frames.ts); the others arrive hashed, except those `hashLater`
 * leaves to the caller (`matches: undefined`).
 */
export async function readProviderMessages(
  source: AsyncIterable<Uint8Array>,
  onMessage: (message: ProviderMessage) => Promise<boolean>,
  accept: (cid: CID) => boolean = () => true,
  hashLater: (cid: CID, length: number) => boolean = () => false,
): Promise<StreamEnd> {
  const frames = new BlockFrameReader(accept, hashLater)
  try {
    for await (const chunk of source) {
      let messages: ReceivedMessage[]
      try {
        messages = frames.push(chunk)
      } catch (err) {
        return { kind: 'violation', error: err as Error }
      }
      for (const message of messages) {
        if (!isProviderMessage(message))
          return { kind: 'violation', error: new InvalidInputError(`a provider may not send "${message.t}"`) }
        if (!(await onMessage(message))) return { kind: 'stopped' }
      }
    }
    return { kind: 'closed', reason: frames.pending > 0 ? 'closed the stream inside a frame' : 'closed the stream' }
  } catch (err) {
    return { kind: 'failed', error: err as Error }
  }
}

function isProviderMessage(message: ReceivedMessage): message is ProviderMessage {
  return message.t === 'have' || message.t === 'dont-have' || message.t === 'block'
}
