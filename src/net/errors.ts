/** Errors from libp2p, as Lateral sees them. */
import type { AbortOptions } from '../core/abort.ts'
import {
  AbortedError,
  AddressInUseError,
  InvalidInputError,
  PeerUnreachableError,
  TimeoutError,
} from '../core/errors.ts'

/**
 * libp2p errors that mean "a stream or connection went away while something still used it".
 * They are normal on a network (a peer left mid-exchange) and are sometimes raised from
 * libp2p's own timers, where no caller can catch them; the daemon logs them instead of dying.
 */
const TEARDOWN_ERRORS = new Set([
  'StreamStateError',
  'StreamResetError',
  'StreamClosedError',
  'StreamAbortedError',
  'UnexpectedEOFError',
  'MuxerClosedError',
  'ConnectionClosedError',
  'ConnectionClosingError',
  'AbortError',
])

type ErrorLike = { name?: string; code?: string; message?: string; cause?: unknown; errors?: unknown[] }

/**
 * Whether `err` or anything it wraps (`cause`, an AggregateError's `errors`, as libp2p's dialer
 * nests them, a few levels deep) matches.
 */
export function someCause(err: unknown, match: (e: ErrorLike) => boolean, depth = 0): boolean {
  if (depth > 4 || typeof err !== 'object' || err === null) return false
  const e = err as ErrorLike
  if (match(e)) return true
  return someCause(e.cause, match, depth + 1) || (e.errors ?? []).some((x) => someCause(x, match, depth + 1))
}

/** The dial reached a peer, but not the one asked for (its TLS or Noise handshake said so). */
export function isPeerMismatch(err: unknown): boolean {
  return someCause(err, (e) => e.name === 'UnexpectedPeerError')
}

/**
 * The peer's host reset the TCP connection (the error itself, or one it wraps). A refused one
 * (nothing listens there) is not: Dialer.connect retries only resets.
 */
export function isConnectionReset(err: unknown): boolean {
  return someCause(err, (e) => e.code === 'ECONNRESET' || /\bECONNRESET\b/.test(e.message ?? ''))
}

export function isStreamTeardownError(err: unknown): boolean {
  return err instanceof Error && TEARDOWN_ERRORS.has(err.name)
}

/** libp2p's listen failure as one clear line naming each address and why. */
export function listenError(err: unknown): Error {
  const e = err as Error
  if (e?.name !== 'UnsupportedListenAddressesError') return e
  const reasons = e.message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('/'))
  const detail = reasons.length > 0 ? reasons.join('; ') : e.message
  const Ctor = /EADDRINUSE|EADDRNOTAVAIL|EACCES/.test(detail) ? AddressInUseError : InvalidInputError
  return new Ctor(`cannot listen on ${detail} (check --listen or "listen" in config.json)`)
}

/** A libp2p failure as Lateral's error for it: cancelled, timed out, or the peer unreachable. */
export function mapNetError(err: unknown, context: string, options: AbortOptions): Error {
  if (err instanceof InvalidInputError) return err
  if (options.signal?.aborted === true) return new AbortedError(`${context}: cancelled`)
  const e = err as Error
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return new TimeoutError(`${context}: timed out`)
  if (e?.name === 'DialDeniedError' || e?.name === 'ConnectionInterceptedError')
    return new PeerUnreachableError(
      `${context}: refused here, the peer is banned or this node hung up on it (connecting by its peer ID, or an address ending in /p2p/<peer ID>, lifts a hang-up)`,
    )
  return new PeerUnreachableError(`${context}: ${e?.message ?? String(err)}`)
}
