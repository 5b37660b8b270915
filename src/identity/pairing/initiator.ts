/**
 * The OLD device's side of `/lateral/pair/1.0.0`: it holds the code, has dialled the new device
 * and runs the pairing over the stream. Steps (docs/protocols/pairing.md):
 *
 *   I -> R  hello   { code ID, commitment to (key_I, nonce_I) }
 *   R -> I  commit  { commitment to (key_R, nonce_R) }
 *   I -> R  reveal  { key_I, nonce_I }
 *   R -> I  reveal  { key_R, nonce_R }          I checks it against the commitment, the code, the connection
 *   I -> R  mac     R -> I  mac                 each proves the code's secret over the transcript
 *   both show the short string; each person confirms: confirm / abort, both ways
 *   I -> R  offer   R -> I  join   I -> R  welcome   R -> I  done
 */

import { equalBytes, randomBytes } from '../../core/crypto.ts'
import { PairingVerificationError } from '../../core/errors.ts'
import type { Signer } from '../../core/signer.ts'
import type { PairingCode } from './code.ts'
import {
  type ConfirmShortString,
  cancellation,
  checkReveal,
  confirmBoth,
  endingBothOnFailure,
  handshakeRead,
  type PairingContext,
  type PairingLimits,
  type PairingProgress,
  payload,
  payloadRead,
  resolveLimits,
} from './session.ts'
import {
  codeIdOf,
  commitmentOf,
  keyConfirmationOf,
  NONCE_BYTES,
  shortStringOf,
  transcriptHashOf,
} from './transcript.ts'
import { type PairingStream, PairingWire } from './wire.ts'

export interface PairOptions extends PairingLimits {
  /** This (old) device: its public key is what it reveals. */
  signer: Pick<Signer, 'publicKey'>
  /** The decoded code the new device shows. */
  code: PairingCode
  /** Ask this device's person to compare the short string. */
  confirm: ConfirmShortString
  /**
   * Opaque bytes for the new device, sent once both people confirmed, before its join payload
   * (e.g. the identity ID and head the join record should name). Default: empty.
   */
  offer?: (context: PairingContext) => Uint8Array | Promise<Uint8Array>
  /**
   * Make the welcome payload from the new device's join payload (e.g. check its signed join
   * record, append the co-signed entry, return the log and the data key sealed to it). Throwing
   * aborts both sides and sends nothing.
   */
  welcome: (join: Uint8Array, context: PairingContext) => Uint8Array | Promise<Uint8Array>
  signal?: AbortSignal
  onProgress?: (event: PairingProgress) => void
}

export interface PairResult extends PairingContext {
  /** The new device's join payload. */
  join: Uint8Array
}

/**
 * Pair with the new device over `stream` (whose authenticated remote peer must be the code's).
 * Resolves once the new device has taken the welcome. Rejects with PairingAbortedError (a person
 * refused, or a side cancelled), PairingVerificationError, PairingProtocolError, a code error
 * from the new device (expired, used, unknown) or TimeoutError; the other side is told.
 */
export async function pair(stream: PairingStream, options: PairOptions): Promise<PairResult> {
  const limits = resolveLimits(options)
  const signal = cancellation(options.signal)
  const wire = new PairingWire(stream)
  const { code, signer } = options
  return endingBothOnFailure(wire, async () => {
    if (stream.remotePeer !== code.peerId) {
      throw new PairingVerificationError(`connected to ${stream.remotePeer}, not to the code's device ${code.peerId}`)
    }
    const nonce = randomBytes(NONCE_BYTES)
    const codeId = codeIdOf(code.secret)
    await wire.send(
      { t: 'hello', code: codeId, commit: commitmentOf('initiator', signer.publicKey, nonce) },
      limits.stepTimeoutMs,
    )
    const { commit } = await wire.expect('commit', handshakeRead(limits, signal))
    await wire.send({ t: 'reveal', key: signer.publicKey, nonce }, limits.stepTimeoutMs)
    const reveal = await wire.expect('reveal', handshakeRead(limits, signal))
    checkReveal('responder', reveal, commit, stream.remotePeer)
    if (!equalBytes(reveal.key, code.publicKey)) {
      throw new PairingVerificationError("the other device's key is not the key in the pairing code")
    }
    const transcriptHash = transcriptHashOf({
      codeId,
      initiatorKey: signer.publicKey,
      initiatorNonce: nonce,
      responderKey: reveal.key,
      responderNonce: reveal.nonce,
    })
    await wire.send(
      { t: 'mac', mac: keyConfirmationOf(code.secret, transcriptHash, 'initiator') },
      limits.stepTimeoutMs,
    )
    const { mac } = await wire.expect('mac', handshakeRead(limits, signal))
    if (!equalBytes(mac, keyConfirmationOf(code.secret, transcriptHash, 'responder'))) {
      throw new PairingVerificationError("the other device did not prove the pairing code's secret")
    }
    const context: PairingContext = {
      peerId: stream.remotePeer,
      publicKey: reveal.key,
      shortString: shortStringOf(code.secret, transcriptHash),
      transcriptHash,
    }
    options.onProgress?.({ type: 'pairing:peer', peerId: context.peerId })
    options.onProgress?.({ type: 'pairing:short-string', shortString: context.shortString, peerId: context.peerId })
    const proofs = {
      mine: keyConfirmationOf(code.secret, transcriptHash, 'initiator', 'confirmed'),
      theirs: keyConfirmationOf(code.secret, transcriptHash, 'responder', 'confirmed'),
    }
    await confirmBoth(wire, context, proofs, options.confirm, limits, signal, options.onProgress)

    // Both people confirmed: from here on payloads cross, the old device's first.
    options.onProgress?.({ type: 'pairing:handover' })
    const offer = await payload(() => options.offer?.(context) ?? new Uint8Array(0), limits, signal)
    await wire.send({ t: 'offer', payload: offer }, limits.payloadTimeoutMs)
    const { payload: join } = await wire.expect('join', payloadRead(limits, signal))
    const welcome = await payload(() => options.welcome(join, context), limits, signal)
    await wire.send({ t: 'welcome', payload: welcome }, limits.payloadTimeoutMs)
    await wire.expect('done', { ...handshakeRead(limits, signal), timeoutMs: limits.payloadTimeoutMs })
    await wire.close()
    return { ...context, join }
  })
}
