/**
 * In-process networks over libp2p's memory transport can raise a StreamStateError from a libp2p
 * event listener when a node stops while a neighbour still writes to it (the memory transport
 * throws synchronously where a socket would fail later). No caller can catch it; the daemon
 * logs such teardown errors (cli/commands/daemon.ts), and this guard does the same for tests.
 * Every other uncaught exception is re-raised untouched, so the test runner still fails on it.
 */
import { isStreamTeardownError } from '../net/errors.ts'

let installed = false

export function installTeardownGuard(): void {
  if (installed || process.hasUncaughtExceptionCaptureCallback()) return
  installed = true
  const capture = (err: unknown) => {
    if (isStreamTeardownError(err)) return
    // Hand everything else back to the normal uncaught-exception path.
    process.setUncaughtExceptionCaptureCallback(null)
    installed = false
    setImmediate(() => {
      throw err
    })
  }
  process.setUncaughtExceptionCaptureCallback(capture)
}
