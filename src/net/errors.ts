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

export function isStreamTeardownError(err: unknown): boolean {
  return err instanceof Error && TEARDOWN_ERRORS.has(err.name)
}
