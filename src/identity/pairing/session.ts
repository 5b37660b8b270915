/**
 * What both sides of a pairing share: the caller-facing types, the limits with their defaults,
 * the checks on a revealed key, the confirmation phase (both people confirm, or both sides
 * stop), and the way every failure ends both sides.
 */
import {
  DEFAULT_PAIRING_CONFIRM_TIMEOUT_MS,
  DEFAULT_PAIRING_MAX_PAYLOAD_BYTES,
  DEFAULT_PAIRING_PAYLOAD_TIMEOUT_MS,
  DEFAULT_PAIRING_STEP_TIMEOUT_MS,
  PAIRING_HANDSHAKE_MAX_FRAME_BYTES,
} from '../../core/constants.ts'
import { equalBytes } from '../../core/crypto.ts'
import { InvalidInputError, PairingAbortedError, PairingVerificationError, TimeoutError } from '../../core/errors.ts'
import { publicKeyFromPeerId } from '../../core/signer.ts'
import { commitmentOf, type PairingRole } from './transcript.ts'
import { isFromRemote, type PairingWire } from './wire.ts'

/** What each side knows of the other once the handshake has checked it. */
export interface PairingContext {
  /** The other device's peer ID, as the connection authenticated it and its reveal matched. */
  peerId: string
  /** The other device's Ed25519 public key. */
  publicKey: Uint8Array
  /** The short string both people compared. */
  shortString: string
  /**
   * SHA-256 of the pairing's transcript (code ID, both keys, both nonces): sign it into a join
   * record to bind the record to this pairing, so it cannot be replayed into another.
   */
  transcriptHash: Uint8Array
}

/**
 * Ask this device's person whether the short string is the one the other screen shows. Resolve
 * true to confirm, false to refuse. `signal` aborts when the pairing ends without waiting for the
 * answer (the other side refused, a check failed, a timeout): close the prompt then.
 */
export type ConfirmShortString = (
  shortString: string,
  options: { signal: AbortSignal; peerId: string },
) => boolean | Promise<boolean>

export type PairingProgress =
  /** A device connected and proved the code (responder), or the new device answered (initiator). */
  | { type: 'pairing:peer'; peerId: string }
  /** The short string to compare, as soon as it is known. */
  | { type: 'pairing:short-string'; shortString: string; peerId: string }
  /** The other device's person confirmed. */
  | { type: 'pairing:remote-confirmed' }
  /** Both confirmed: the payloads are being exchanged. */
  | { type: 'pairing:handover' }

/** Deadlines and bounds of one pairing (defaults in core/constants.ts). */
export interface PairingLimits {
  /** Each handshake message must arrive within this, ms. */
  stepTimeoutMs?: number
  /** Each person's confirmation, and the wait for the other's, ms. */
  confirmTimeoutMs?: number
  /** Making and receiving each payload, and the final ack, ms. */
  payloadTimeoutMs?: number
  /** Largest offer, join or welcome payload, bytes. */
  maxPayloadBytes?: number
}

export type ResolvedLimits = Required<PairingLimits>

export function resolveLimits(limits: PairingLimits): ResolvedLimits {
  return {
    stepTimeoutMs: limits.stepTimeoutMs ?? DEFAULT_PAIRING_STEP_TIMEOUT_MS,
    confirmTimeoutMs: limits.confirmTimeoutMs ?? DEFAULT_PAIRING_CONFIRM_TIMEOUT_MS,
    payloadTimeoutMs: limits.payloadTimeoutMs ?? DEFAULT_PAIRING_PAYLOAD_TIMEOUT_MS,
    maxPayloadBytes: limits.maxPayloadBytes ?? DEFAULT_PAIRING_MAX_PAYLOAD_BYTES,
  }
}

/** Read options of a handshake message. */
export function handshakeRead(limits: ResolvedLimits, signal: AbortSignal) {
  return { maxBytes: PAIRING_HANDSHAKE_MAX_FRAME_BYTES, maxPayloadBytes: 0, timeoutMs: limits.stepTimeoutMs, signal }
}

/** Read options of a payload message (a payload frame adds a few bytes of CBOR around it). */
export function payloadRead(limits: ResolvedLimits, signal: AbortSignal) {
  return {
    maxBytes: limits.maxPayloadBytes + 64,
    maxPayloadBytes: limits.maxPayloadBytes,
    timeoutMs: limits.payloadTimeoutMs,
    signal,
  }
}

/**
 * Check the other side's reveal: it must open its commitment, and its key must be the key of the
 * peer the connection authenticated (and, for the old device, the key the code named).
 */
export function checkReveal(
  role: PairingRole,
  reveal: { key: Uint8Array; nonce: Uint8Array },
  commit: Uint8Array,
  remotePeer: string,
): void {
  if (!equalBytes(commitmentOf(role, reveal.key, reveal.nonce), commit)) {
    throw new PairingVerificationError('the other device revealed a key or nonce that does not match its commitment')
  }
  let connectionKey: Uint8Array
  try {
    connectionKey = publicKeyFromPeerId(remotePeer)
  } catch (err) {
    if (err instanceof InvalidInputError)
      throw new PairingVerificationError(`the peer ${remotePeer} has no Ed25519 key`)
    throw err
  }
  if (!equalBytes(connectionKey, reveal.key)) {
    throw new PairingVerificationError(`the key revealed is not the key of the connected peer ${remotePeer}`)
  }
}

/**
 * A signal that aborts, with a PairingAbortedError, when the caller's does: every wait of the
 * pairing takes it, so cancelling ends both sides (the other side is told).
 */
export function cancellation(signal: AbortSignal | undefined): AbortSignal {
  const controller = new AbortController()
  const cancel = () =>
    controller.abort(new PairingAbortedError('the pairing was cancelled on this device', 'local', 'cancelled'))
  if (signal?.aborted === true) cancel()
  else signal?.addEventListener('abort', cancel, { once: true })
  return controller.signal
}

/**
 * Both people confirm the short string, or both sides stop. This side asks its person while it
 * listens to the other side: an abort (or the stream ending) from there aborts the local prompt
 * at once. A refusal here is sent as an abort; a confirmation as `confirm`, after which this side
 * waits for the other's.
 */
export async function confirmBoth(
  wire: PairingWire,
  context: PairingContext,
  proofs: { mine: Uint8Array; theirs: Uint8Array },
  confirm: ConfirmShortString,
  limits: ResolvedLimits,
  signal: AbortSignal,
  onProgress?: (event: PairingProgress) => void,
): Promise<void> {
  const prompt = new AbortController()
  const read = { ...handshakeRead(limits, signal), timeoutMs: limits.confirmTimeoutMs }
  const remote = wire.expect('confirm', read).then(({ mac }) => {
    if (!equalBytes(mac, proofs.theirs)) {
      throw new PairingVerificationError("the other device's confirmation does not carry the code's secret")
    }
  })
  remote.then(
    () => onProgress?.({ type: 'pairing:remote-confirmed' }),
    (err: unknown) => prompt.abort(err),
  )
  const promptSignal = AbortSignal.any([prompt.signal, signal])
  const local = withDeadline(
    Promise.resolve().then(() => confirm(context.shortString, { signal: promptSignal, peerId: context.peerId })),
    limits.confirmTimeoutMs,
    promptSignal,
  )
  try {
    const confirmed = await local
    if (confirmed !== true) {
      throw new PairingAbortedError('the short string was not confirmed on this device', 'local', 'refused')
    }
  } catch (err) {
    // The remote's failure (or the caller's cancellation) is the cause; the prompt only followed it.
    if (prompt.signal.aborted) throw prompt.signal.reason
    if (signal.aborted) throw signal.reason
    prompt.abort(err)
    if (err instanceof PairingAbortedError || err instanceof TimeoutError) throw err
    throw new PairingAbortedError(`confirming failed on this device: ${(err as Error).message}`, 'local', 'failed')
  }
  await wire.send({ t: 'confirm', mac: proofs.mine }, limits.stepTimeoutMs)
  await remote
}

/** `promise`, or a TimeoutError after `ms`, or `signal`'s reason, whichever comes first. */
export function withDeadline<T>(promise: Promise<T>, ms: number, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new TimeoutError(`no answer within ${ms} ms`))), ms)
    const onAbort = () => finish(() => reject(signal.reason))
    const finish = (settle: () => void) => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      settle()
    }
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e)),
    )
  })
}

/**
 * A caller's payload callback, within the payload deadline and size bound; its failure is a local
 * PairingAbortedError (`failed`), which the other side is told of.
 */
export async function payload(
  make: () => Uint8Array | Promise<Uint8Array>,
  limits: ResolvedLimits,
  signal: AbortSignal,
): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await withDeadline(Promise.resolve().then(make), limits.payloadTimeoutMs, signal)
  } catch (err) {
    if (err instanceof PairingAbortedError || err instanceof TimeoutError) throw err
    throw new PairingAbortedError(`the pairing payload could not be made: ${(err as Error).message}`, 'local', 'failed')
  }
  if (!(bytes instanceof Uint8Array) || bytes.length > limits.maxPayloadBytes) {
    throw new PairingAbortedError(
      `the pairing payload is not bytes or is over ${limits.maxPayloadBytes} bytes`,
      'local',
      'failed',
    )
  }
  return bytes
}

/**
 * Run one side of a pairing; on any failure tell the other side (unless it is the one that
 * ended it), close the stream and rethrow.
 */
export async function endingBothOnFailure<T>(wire: PairingWire, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (isFromRemote(err)) await wire.close()
    else await wire.fail(err)
    throw err
  }
}
