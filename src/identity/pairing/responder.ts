/**
 * The NEW device's side of `/lateral/pair/1.0.0`: it makes pairing codes, waits on them and
 * answers the old device that dials it with one (steps in initiator.ts and
 * docs/protocols/pairing.md). Each invitation settles once: with the welcome payload
 * when both people confirmed, or with the reason it ended.
 *
 * @example
 * ```ts
 * const responder = new PairingResponder({ signer, addresses: () => net.addresses() })
 * await net.handle(PAIRING_PROTOCOL, (s) => responder.handle(s))
 * const invitation = responder.invite({ confirm, join: (offer, ctx) => signedJoinRecord(ctx) })
 * show(invitation.code)
 * const { welcome } = await invitation.result
 * ```
 */
import { DEFAULT_PAIRING_MAX_PENDING_CODES } from '../../core/constants.ts'
import { equalBytes, randomBytes } from '../../core/crypto.ts'
import { PairingAbortedError, PairingCodeExpiredError, PairingVerificationError } from '../../core/errors.ts'
import { type ComponentLogger, errorFields, type Logger, silentLogger } from '../../core/logger.ts'
import type { Signer } from '../../core/signer.ts'
import { createPairingCode } from './code.ts'
import { type PendingCode, PendingCodes } from './pending-codes.ts'
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
  type ResolvedLimits,
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
import { isFromRemote, type PairingStream, PairingWire } from './wire.ts'

export interface PairingResponderComponents {
  /** This (new) device: its key is in the code and is what it reveals. */
  signer: Pick<Signer, 'publicKey' | 'peerId'>
  /** This device's dialable multiaddrs, best first (net.addresses()). */
  addresses: () => string[]
  logger?: ComponentLogger
}

export interface PairingResponderInit extends PairingLimits {
  /** How long a code is valid, ms. Default DEFAULT_PAIRING_CODE_TTL_MS (10 minutes). */
  codeTtlMs?: number
  /** Addresses a code carries at most. Default DEFAULT_PAIRING_CODE_MAX_ADDRESSES. */
  maxCodeAddresses?: number
  /** Codes kept at once (waiting, or remembered as used). Default DEFAULT_PAIRING_MAX_PENDING_CODES. */
  maxPendingCodes?: number
  /** Clock, ms since the epoch (tests). */
  now?: () => number
}

export interface InviteOptions {
  /** Ask this device's person to compare the short string. */
  confirm: ConfirmShortString
  /**
   * Make the join payload (e.g. a join record signed with this device's key over the context's
   * transcript hash), once both people confirmed and the old device's offer came in.
   */
  join: (offer: Uint8Array, context: PairingContext) => Uint8Array | Promise<Uint8Array>
  /** Check the welcome before acknowledging it; throwing aborts both sides. */
  acceptWelcome?: (welcome: Uint8Array, context: PairingContext) => void | Promise<void>
  /** Stop waiting (the code is refused from then on), or end a pairing in progress. */
  signal?: AbortSignal
  onProgress?: (event: PairingProgress) => void
  /** This code's validity, ms; default the responder's `codeTtlMs`. */
  ttlMs?: number
}

export interface PairingInvitation {
  /** The code to show (as text and QR code). */
  code: string
  /** When it expires, ms since the epoch. */
  expiresAt: number
  /**
   * Settles once: the welcome when paired; else PairingCodeExpiredError (no one came in time),
   * PairingAbortedError, PairingVerificationError, PairingProtocolError or TimeoutError.
   */
  result: Promise<InvitationResult>
}

export interface InvitationResult extends PairingContext {
  offer: Uint8Array
  welcome: Uint8Array
}

interface Waiter {
  options: InviteOptions
  resolve: (result: InvitationResult) => void
  reject: (err: Error) => void
  timer: ReturnType<typeof setTimeout>
  signal: AbortSignal
}

export class PairingResponder {
  readonly #components: PairingResponderComponents
  readonly #init: PairingResponderInit
  readonly #limits: ResolvedLimits
  readonly #now: () => number
  readonly #codes: PendingCodes<Waiter>
  readonly #stopping = new AbortController()
  readonly #log: Logger

  constructor(components: PairingResponderComponents, init: PairingResponderInit = {}) {
    this.#components = components
    this.#init = init
    this.#limits = resolveLimits(init)
    this.#now = init.now ?? Date.now
    this.#log = (components.logger ?? silentLogger).forComponent('lateral:pairing')
    this.#codes = new PendingCodes(init.maxPendingCodes ?? DEFAULT_PAIRING_MAX_PENDING_CODES, this.#now, (code) =>
      this.#settleExpired(code),
    )
  }

  /** Make a code and wait on it. */
  invite(options: InviteOptions): PairingInvitation {
    this.#stopping.signal.throwIfAborted()
    const created = createPairingCode({
      publicKey: this.#components.signer.publicKey,
      addresses: this.#components.addresses(),
      ttlMs: options.ttlMs ?? this.#init.codeTtlMs,
      maxAddresses: this.#init.maxCodeAddresses,
      now: this.#now,
    })
    const id = hex(codeIdOf(created.secret))
    const signal = AbortSignal.any([cancellation(options.signal), this.#stopping.signal])
    const { promise, resolve, reject } = Promise.withResolvers<InvitationResult>()
    promise.catch(() => {}) // settled for whoever awaits it; never an unhandled rejection
    const timer = setTimeout(
      () => {
        const code = this.#codes.get(id)
        if (code !== undefined && this.#codes.expire(id)) this.#settleExpired(code)
      },
      Math.max(0, created.expiresAt - this.#now()),
    )
    const waiter: Waiter = { options, resolve, reject, timer, signal }
    this.#codes.add({ id, secret: created.secret, expiresAt: created.expiresAt, waiter, state: 'waiting' })
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        if (this.#codes.expire(id)) reject(signal.reason)
      },
      { once: true },
    )
    return { code: created.code, expiresAt: created.expiresAt, result: promise }
  }

  /** Codes waiting for a pairing. */
  waiting(): number {
    return this.#codes.waiting()
  }

  /** The protocol handler: answer one old device. Never throws; the stream is closed when it returns. */
  async handle(stream: PairingStream): Promise<void> {
    const wire = new PairingWire(stream)
    let code: PendingCode<Waiter>
    let hello: { code: Uint8Array; commit: Uint8Array }
    try {
      hello = await wire.expect('hello', handshakeRead(this.#limits, this.#stopping.signal))
      code = this.#codes.claim(hex(hello.code))
    } catch (err) {
      // Before a code is claimed a failure concerns this stream alone (a stranger, a stale code).
      this.#log.info('pairing attempt refused', { peer: stream.remotePeer, ...errorFields(err) })
      if (isFromRemote(err)) await wire.close()
      else await wire.fail(err)
      return
    }
    const waiter = code.waiter
    clearTimeout(waiter.timer)
    try {
      const result = await endingBothOnFailure(wire, () => this.#respond(wire, hello, code.secret, waiter))
      this.#log.info('paired', { peer: result.peerId })
      waiter.resolve(result)
    } catch (err) {
      this.#log.info('pairing failed', { peer: stream.remotePeer, ...errorFields(err) })
      waiter.reject(err as Error)
    }
  }

  async #respond(
    wire: PairingWire,
    hello: { code: Uint8Array; commit: Uint8Array },
    secret: Uint8Array,
    waiter: Waiter,
  ): Promise<InvitationResult> {
    const { signal, options } = waiter
    const limits = this.#limits
    const publicKey = this.#components.signer.publicKey
    const remotePeer = wire.stream.remotePeer
    const nonce = randomBytes(NONCE_BYTES)
    await wire.send({ t: 'commit', commit: commitmentOf('responder', publicKey, nonce) }, limits.stepTimeoutMs)
    const reveal = await wire.expect('reveal', handshakeRead(limits, signal))
    checkReveal('initiator', reveal, hello.commit, remotePeer)
    await wire.send({ t: 'reveal', key: publicKey, nonce }, limits.stepTimeoutMs)
    const transcriptHash = transcriptHashOf({
      codeId: hello.code,
      initiatorKey: reveal.key,
      initiatorNonce: reveal.nonce,
      responderKey: publicKey,
      responderNonce: nonce,
    })
    const { mac } = await wire.expect('mac', handshakeRead(limits, signal))
    if (!equalBytes(mac, keyConfirmationOf(secret, transcriptHash, 'initiator'))) {
      throw new PairingVerificationError("the other device did not prove the pairing code's secret")
    }
    await wire.send({ t: 'mac', mac: keyConfirmationOf(secret, transcriptHash, 'responder') }, limits.stepTimeoutMs)
    const context: PairingContext = {
      peerId: remotePeer,
      publicKey: reveal.key,
      shortString: shortStringOf(secret, transcriptHash),
      transcriptHash,
    }
    options.onProgress?.({ type: 'pairing:peer', peerId: remotePeer })
    options.onProgress?.({ type: 'pairing:short-string', shortString: context.shortString, peerId: remotePeer })
    const proofs = {
      mine: keyConfirmationOf(secret, transcriptHash, 'responder', 'confirmed'),
      theirs: keyConfirmationOf(secret, transcriptHash, 'initiator', 'confirmed'),
    }
    await confirmBoth(wire, context, proofs, options.confirm, limits, signal, options.onProgress)

    // Both people confirmed. The old device's offer comes first; then the join; then the welcome.
    options.onProgress?.({ type: 'pairing:handover' })
    const { payload: offer } = await wire.expect('offer', payloadRead(limits, signal))
    const join = await payload(() => options.join(offer, context), limits, signal)
    await wire.send({ t: 'join', payload: join }, limits.payloadTimeoutMs)
    const { payload: welcome } = await wire.expect('welcome', payloadRead(limits, signal))
    if (options.acceptWelcome !== undefined) {
      const accept = options.acceptWelcome
      await payload(
        async () => {
          await accept(welcome, context)
          return new Uint8Array(0)
        },
        limits,
        signal,
      )
    }
    await wire.send({ t: 'done' }, limits.stepTimeoutMs)
    await wire.close()
    return { ...context, offer, welcome }
  }

  #settleExpired(code: PendingCode<Waiter>): void {
    clearTimeout(code.waiter.timer)
    code.waiter.reject(new PairingCodeExpiredError('the pairing code expired before a device used it'))
  }

  /** Refuse every code and end the pairings in progress (their other sides are told). */
  stop(): void {
    if (this.#stopping.signal.aborted) return
    this.#stopping.abort(new PairingAbortedError('this device stopped pairing', 'local', 'cancelled'))
    for (const code of this.#codes.clear()) {
      clearTimeout(code.waiter.timer)
      code.waiter.reject(this.#stopping.signal.reason)
    }
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}
