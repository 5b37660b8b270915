/**
 * Pairing over the node's network: the new device answers `/lateral/pair/1.0.0`, the old device
 * dials the addresses in the code and opens one stream. libp2p's secure channel authenticates
 * both peer IDs, which is the `remotePeer` the protocol checks the revealed keys against.
 */
import { DEFAULT_PAIRING_INBOUND_STREAMS } from '../../core/constants.ts'
import type { Net, ProtocolStream } from '../../net/types.ts'
import { decodePairingCode, type PairingCode } from './code.ts'
import { type PairOptions, type PairResult, pair } from './initiator.ts'
import type { PairingResponder } from './responder.ts'

export const PAIRING_PROTOCOL = '/lateral/pair/1.0.0'

/** Answer pairing streams with `responder` (on every device: any may be made to join). */
export async function servePairing(
  net: Pick<Net, 'handle'>,
  responder: Pick<PairingResponder, 'handle'>,
  init: { maxInboundStreams?: number } = {},
): Promise<void> {
  await net.handle(PAIRING_PROTOCOL, (stream) => responder.handle(stream), {
    maxInboundStreams: init.maxInboundStreams ?? DEFAULT_PAIRING_INBOUND_STREAMS,
  })
}

export interface PairWithCodeOptions extends Omit<PairOptions, 'code'> {
  /** The code as typed or scanned, or already decoded. */
  code: string | PairingCode
}

/**
 * On the old device: decode the code, reach the new device and pair. Dial errors are net's
 * (PeerUnreachableError); the pairing's are `pair`'s.
 */
export async function pairWithCode(
  net: Pick<Net, 'connect' | 'openStream'>,
  options: PairWithCodeOptions,
): Promise<PairResult> {
  const code = typeof options.code === 'string' ? decodePairingCode(options.code) : options.code
  const stream = await dialPairing(net, code, options.signal)
  return pair(stream, { ...options, code })
}

/** Connect through the code's addresses in order, else by peer ID (peer store, DHT), and open a stream. */
async function dialPairing(
  net: Pick<Net, 'connect' | 'openStream'>,
  code: PairingCode,
  signal: AbortSignal | undefined,
): Promise<ProtocolStream> {
  let failure: unknown
  let connected = false
  for (const address of code.addresses) {
    try {
      await net.connect(address, { signal })
      connected = true
      break
    } catch (err) {
      signal?.throwIfAborted()
      failure = err
    }
  }
  if (!connected) {
    try {
      await net.connect(code.peerId, { signal })
    } catch (err) {
      throw failure ?? err
    }
  }
  return net.openStream(code.peerId, PAIRING_PROTOCOL, { signal })
}
